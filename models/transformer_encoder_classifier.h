#pragma once
// Encoder-only Transformer classifier, BERT-style (Devlin et al. 2019): token
// embeddings (scaled by sqrt(d_model), the annotated Embeddings) plus fixed
// sinusoidal or learned positions, the annotated Encoder (N layers; pre-norm
// stacks end with a LayerNorm), a pooled sentence vector and a linear head.
//
// Pooling: `cls` takes the first position's output -- the data pipeline puts
// a class token there (torchzoo's text classification uses the tokenizer's
// bos id, BERT's [CLS]) -- and `mean` averages the outputs of the non-padding
// positions. BERT's extra pooler (dense + tanh) is left out: its own ablations
// and later encoders (RoBERTa's classification head aside) train as well
// without it on single-sentence tasks, and a linear head keeps the logits a
// linear function of the encoder output.
//
// Parameter names (state_dict):
//   embed.0.lut.weight                  [vocab, d_model]
//   embed.1.pe (buffer) | embed.1.weight [max_len, d_model] (learned)
//   encoder.layers.{i}.self_attn.linears.{0..3}.{weight,bias}, encoder.layers.{i}.feed_forward.w_{1,2}.*,
//   encoder.layers.{i}.sublayer.{0,1}.norm.{a_2,b_2}, encoder.norm.{a_2,b_2}
//   head.weight [num_classes, d_model], head.bias [num_classes]
//
// Shapes: tokens int64 [B, T], mask bool [B, 1, T] (true = a token) -> logits [B, num_classes].
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include "torchzoo/layers/dropout.h"
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/encoder.h"
#include "torchzoo/layers/transformer_stack_options.h"

namespace torchzoo::models {

/// How the encoder outputs become one vector per sequence.
enum class Pooling {
  kCls,   ///< the first position's output
  kMean,  ///< the mean over non-padding positions
};

/// "cls" or "mean"; anything else is an error listing both.
Pooling pooling_from_string(const std::string& name);
/// "cls" or "mean".
std::string to_string(Pooling pooling);

/// The stack's fields (num_layers, d_model, num_heads, d_ff, dropout, attention_dropout, activation,
/// norm_first, layer_norm_eps, use_torch_layer_norm, fused_attention) come from TransformerStackOptions:
/// 4 pre-norm layers 256 wide, 4 heads, d_ff 1024, ReLU. `dropout` also applies to the embeddings
/// and the pooled vector; norm_first false gives BERT's post-norm blocks.
struct TransformerEncoderClassifierOptions : layers::TransformerStackOptions<TransformerEncoderClassifierOptions> {
  TransformerEncoderClassifierOptions(int64_t vocab, int64_t num_classes)
      : TransformerStackOptions(layers::TransformerLayerOptions(/*d_model=*/256, /*num_heads=*/4, /*d_ff=*/1024),
                                /*num_layers=*/4),
        vocab_(vocab),
        num_classes_(num_classes) {}
  /// Token vocabulary size.
  TORCH_ARG(int64_t, vocab);
  /// Classes the head scores.
  TORCH_ARG(int64_t, num_classes);
  /// Longest sequence the positions cover.
  TORCH_ARG(int64_t, max_len) = 512;
  /// Learned position embeddings (BERT) instead of the sinusoidal encoding.
  TORCH_ARG(bool, learned_positions) = false;
  /// How the sequence is pooled for the head.
  TORCH_ARG(Pooling, pooling) = Pooling::kCls;
};

/// Encoder-only Transformer classifier, BERT-style: embeddings and positions, the annotated Encoder,
/// cls or mean pooling and a linear head. Used through the module holder TransformerEncoderClassifier.
///
/// Example:
///   TransformerEncoderClassifier model(TransformerEncoderClassifierOptions(/*vocab=*/8000, /*num_classes=*/5));
///   auto logits = model(tokens, data::padding_mask(tokens, /*pad=*/0));  // [B, 5]
class TransformerEncoderClassifierImpl : public torch::nn::Cloneable<TransformerEncoderClassifierImpl> {
 public:
  explicit TransformerEncoderClassifierImpl(TransformerEncoderClassifierOptions options);
  void reset() override;
  /// Xavier-uniform on every matrix but the learned positions (N(0, 0.02^2)), zero biases.
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  /// The encoder output [B, T, d_model] of tokens [B, T] under mask [B, 1, T].
  torch::Tensor encode(const torch::Tensor& tokens, const torch::Tensor& mask);
  /// The pooled vector [B, d_model] of encoder outputs [B, T, d_model].
  torch::Tensor pool(const torch::Tensor& hidden, const torch::Tensor& mask) const;
  /// Class logits [B, num_classes].
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& mask);

  TransformerEncoderClassifierOptions options;
  torch::nn::Sequential embed{nullptr};  ///< Embeddings, PositionalEncoding or LearnedPositionalEmbedding
  layers::Encoder encoder{nullptr};
  layers::Dropout dropout{nullptr};  ///< on the pooled vector
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(TransformerEncoderClassifier);

}  // namespace torchzoo::models
