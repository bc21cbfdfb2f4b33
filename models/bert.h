#pragma once
// BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional
// Transformers for Language Understanding") as Hugging Face's BertModel computes
// it, so that its checkpoints load and give the same numbers
// (train/export/hf_bert.h reads them; tests/bert/ compares with transformers):
//
//   embeddings = LayerNorm(word[ids] + position[0..T) + token_type[types]), dropout
//   N post-norm layers: x = LayerNorm(x + dropout(SelfAttention(x)));
//                       x = LayerNorm(x + dropout(W_2 gelu(W_1 x)))
//   pooler = tanh(dense(x[:, 0]))
//
// The layers are torchzoo's own EncoderLayer (post-norm, torch's LayerNorm with
// BERT's eps inside the square root, exact GELU, no dropout on the feed-forward's
// hidden activations); attention masks out padded keys. The embeddings and the
// pooler carry Hugging Face's names; the encoder keeps torchzoo's:
//
//   embeddings.word_embeddings.weight        [vocab, hidden]
//   embeddings.position_embeddings.weight    [max_position, hidden]
//   embeddings.token_type_embeddings.weight  [type_vocab, hidden]
//   embeddings.LayerNorm.{weight,bias}
//   encoder.layers.{i}.self_attn.linears.{0,1,2,3}.*  (query, key, value, attention.output.dense)
//   encoder.layers.{i}.sublayer.0.norm.{a_2,b_2}       (attention.output.LayerNorm)
//   encoder.layers.{i}.feed_forward.w_{1,2}.*          (intermediate.dense, output.dense)
//   encoder.layers.{i}.sublayer.1.norm.{a_2,b_2}       (output.LayerNorm)
//   pooler.dense.{weight,bias}
// (hf_bert.h maps them to and from encoder.layer.{i}.attention.self.query.weight and so on.)
//
// Shapes: input_ids int64 [B, T]; token_type_ids int64 [B, T] (undefined: all 0);
// attention_mask [B, T], 1 or true for a token, 0 for padding (undefined: no
// padding) -> last_hidden_state [B, T, hidden], pooler_output [B, hidden].
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/encoder.h"

namespace torchzoo::models {

/// BertModel's configuration, with config.json's names; the defaults are bert-base-uncased's.
struct BertOptions {
  /// The encoder layer these describe.
  layers::TransformerLayerOptions layer() const;

  TORCH_ARG(int64_t, vocab_size) = 30522;
  TORCH_ARG(int64_t, hidden_size) = 768;
  TORCH_ARG(int64_t, num_hidden_layers) = 12;
  TORCH_ARG(int64_t, num_attention_heads) = 12;
  TORCH_ARG(int64_t, intermediate_size) = 3072;
  /// "gelu" (exact, erf) or "relu".
  TORCH_ARG(std::string, hidden_act) = "gelu";
  TORCH_ARG(double, hidden_dropout_prob) = 0.1;
  TORCH_ARG(double, attention_probs_dropout_prob) = 0.1;
  TORCH_ARG(int64_t, max_position_embeddings) = 512;
  TORCH_ARG(int64_t, type_vocab_size) = 2;
  TORCH_ARG(double, layer_norm_eps) = 1e-12;
  /// N(0, initializer_range^2) for the weights of a model not loaded from a checkpoint.
  TORCH_ARG(double, initializer_range) = 0.02;
  TORCH_ARG(int64_t, pad_token_id) = 0;
  /// at::scaled_dot_product_attention (else the reference's matmul/softmax).
  TORCH_ARG(bool, fused_attention) = true;
};

/// What BertModel returns.
struct BertOutput {
  torch::Tensor last_hidden_state;  ///< [B, T, hidden]
  torch::Tensor pooler_output;      ///< [B, hidden]
};

/// Word, position and token-type embeddings, summed, normalised and dropped out.
class BertEmbeddingsImpl : public torch::nn::Cloneable<BertEmbeddingsImpl> {
 public:
  explicit BertEmbeddingsImpl(BertOptions options);
  void reset() override;
  /// input_ids [B, T], token_type_ids [B, T] or undefined -> [B, T, hidden]
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids = {});

  BertOptions options;
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // NOLINT: Hugging Face's name
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

/// tanh(dense(first position)): the [CLS] vector BERT's next-sentence head was trained on.
class BertPoolerImpl : public torch::nn::Cloneable<BertPoolerImpl> {
 public:
  explicit BertPoolerImpl(int64_t hidden_size);
  void reset() override;
  /// [B, T, hidden] -> [B, hidden]
  torch::Tensor forward(const torch::Tensor& hidden_states);

  int64_t hidden_size;
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

/// Hugging Face's BertModel. Used through the module holder BertModel.
///
/// Example:
///   BertModel bert(BertOptions().hidden_size(384).num_hidden_layers(6).intermediate_size(1536));
///   train::load_hf_bert(*bert, "all-MiniLM-L6-v2");          // train/export/hf_bert.h
///   auto out = bert(ids, types, mask);                        // out.last_hidden_state [B, T, 384]
class BertModelImpl : public torch::nn::Cloneable<BertModelImpl> {
 public:
  explicit BertModelImpl(BertOptions options);
  void reset() override;
  /// BERT's initialisation: N(0, initializer_range^2) weights and embeddings, zero biases, unit norms,
  /// a zero padding embedding.
  void reset_parameters();
  BertOutput forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids = {},
                     const torch::Tensor& attention_mask = {});

  BertOptions options;
  BertEmbeddings embeddings{nullptr};
  layers::Encoder encoder{nullptr};
  BertPooler pooler{nullptr};
};
TORCH_MODULE(BertModel);

/// BertClassifier's configuration: the BERT, the classes and the dropout before the head.
struct BertClassifierOptions {
  BertClassifierOptions(BertOptions bert, int64_t num_classes) : bert_(std::move(bert)), num_classes_(num_classes) {}
  TORCH_ARG(BertOptions, bert);
  TORCH_ARG(int64_t, num_classes);
  /// Dropout on the pooled vector before the head (Hugging Face's classifier_dropout); unset:
  /// bert.hidden_dropout_prob.
  TORCH_ARG(std::optional<double>, classifier_dropout) = std::nullopt;
};

/// Hugging Face's BertForSequenceClassification: BertModel's pooler output, dropout, a linear head.
/// Names: bert.* (BertModel's), classifier.{weight,bias} [num_classes, hidden], [num_classes].
/// Used through the module holder BertClassifier.
///
/// Example:
///   BertClassifier model(BertClassifierOptions(train::hf_bert_options("all-MiniLM-L6-v2"), /*num_classes=*/8));
///   train::load_hf_bert(*model->bert, "all-MiniLM-L6-v2");
///   auto logits = model(tokens, data::padding_mask(tokens, /*pad=*/0));  // [B, 8]
class BertClassifierImpl : public torch::nn::Cloneable<BertClassifierImpl> {
 public:
  explicit BertClassifierImpl(BertClassifierOptions options);
  void reset() override;
  /// tokens int64 [B, T], mask bool [B, 1, T] or [B, T] (true = a token) -> logits [B, num_classes].
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& mask = {});

  BertClassifierOptions options;
  BertModel bert{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(BertClassifier);

/// Mean of the last hidden states over the tokens (attention_mask 1), as sentence-transformers'
/// pooling: [B, T, hidden], [B, T] -> [B, hidden]. With `normalize`, each row has unit L2 norm.
torch::Tensor mean_pool(const torch::Tensor& last_hidden_state, const torch::Tensor& attention_mask,
                        bool normalize = true);

}  // namespace torchzoo::models
