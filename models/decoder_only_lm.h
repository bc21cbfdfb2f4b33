#pragma once
// Decoder-only Transformer language model, GPT-style (Radford et al. 2018):
// token embeddings (the annotated Embeddings, scaled by sqrt(d_model)) plus
// sinusoidal or learned positions, a stack of pre-norm blocks with causal
// self-attention -- the annotated Encoder's layers under a subsequent mask,
// ending with its LayerNorm -- and the Generator's log-softmax over the
// vocabulary, whose projection can be the embedding matrix (tie_embeddings).
//
// Generation decodes one position per step with each block's cached keys
// and values (init_state / step), as EncoderDecoder::decode_step does.
//
// Parameter names (state_dict):
//   embed.0.lut.weight [vocab, d_model], embed.1.pe (buffer) | embed.1.weight [max_len, d_model]
//   decoder.layers.{i}.self_attn.linears.{0..3}.*, decoder.layers.{i}.feed_forward.w_{1,2}.*,
//   decoder.layers.{i}.sublayer.{0,1}.norm.{a_2,b_2}, decoder.norm.{a_2,b_2}
//   generator.proj.weight (the embedding matrix when tied), generator.proj.bias
//
// Shapes: tokens int64 [B, T], mask bool [B, T, T] (padding & subsequent,
// data::causal_padding_mask) -> hidden [B, T, d_model]; apply `generator`
// for log-probabilities [B, T, vocab].
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/encoder.h"
#include "torchzoo/layers/generator.h"
#include "torchzoo/layers/transformer_stack_options.h"

namespace torchzoo::models {

/// The stack's fields (num_layers, d_model, num_heads, d_ff, dropout, attention_dropout, activation,
/// norm_first, layer_norm_eps, use_torch_layer_norm, fused_attention) come from TransformerStackOptions:
/// 4 pre-norm blocks 256 wide, 4 heads, d_ff 1024, and GELU as GPT has. `dropout` also applies to
/// the embeddings.
struct DecoderOnlyLMOptions : layers::TransformerStackOptions<DecoderOnlyLMOptions> {
  /* implicit */ DecoderOnlyLMOptions(int64_t vocab)
      : TransformerStackOptions(layers::TransformerLayerOptions(/*d_model=*/256, /*num_heads=*/4, /*d_ff=*/1024)
                                    .activation(layers::Activation::kGelu),
                                /*num_layers=*/4),
        vocab_(vocab) {}
  /// Vocabulary size.
  TORCH_ARG(int64_t, vocab);
  /// Longest sequence the positions cover (prompt and generated tokens together).
  TORCH_ARG(int64_t, max_len) = 512;
  /// Learned position embeddings (GPT) instead of the sinusoidal encoding.
  TORCH_ARG(bool, learned_positions) = true;
  /// The output projection is the embedding matrix (Press & Wolf 2017); the generator keeps its bias.
  TORCH_ARG(bool, tie_embeddings) = true;
};

/// What generation keeps between steps: each block's keys and values of the positions so far.
struct LMState {
  /// One KeyValue per block, [B, h, T, d_k] each.
  std::vector<layers::KeyValue> layers;
  /// Positions decoded so far (the position the next step encodes).
  int64_t length() const { return layers.empty() ? 0 : layers.front().length(); }
  /// Keeps rows `rows` [B'] (int64) in that order.
  void reorder(const torch::Tensor& rows);
};

/// Decoder-only Transformer language model, GPT-style: embeddings and positions, pre-norm blocks under
/// a causal mask, the Generator. Used through the module holder DecoderOnlyLM.
///
/// Example:
///   DecoderOnlyLM lm(DecoderOnlyLMOptions(/*vocab=*/8000).num_layers(4));
///   auto log_probs = lm->generator(lm(tokens, data::causal_padding_mask(tokens, /*pad=*/0)));  // [B, T, 8000]
class DecoderOnlyLMImpl : public torch::nn::Cloneable<DecoderOnlyLMImpl> {
 public:
  explicit DecoderOnlyLMImpl(DecoderOnlyLMOptions options);
  void reset() override;
  /// Xavier-uniform on every matrix but the learned positions (N(0, 0.02^2)).
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  /// Hidden states [B, T, d_model] of tokens [B, T] under a causal (and padding) mask [B, T, T].
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& mask);
  /// tokens [B, 1] at position state.length() -> hidden [B, 1, d_model] for that position
  /// (apply `generator` for the next token's log-probabilities); extends `state` by one.
  torch::Tensor step(const torch::Tensor& tokens, LMState& state);

  /// Cloneable::clone copies every parameter on its own, which would untie the embeddings: the copy is re-tied.
  std::shared_ptr<torch::nn::Module> clone(const std::optional<torch::Device>& device = std::nullopt) const override;

  DecoderOnlyLMOptions options;
  torch::nn::Sequential embed{nullptr};  ///< Embeddings, LearnedPositionalEmbedding or PositionalEncoding
  layers::Encoder decoder{nullptr};      ///< pre-norm blocks, used under a causal mask
  layers::Generator generator{nullptr};

 private:
  void tie_weights();
  /// Embeddings of tokens [B, T] at positions offset .. offset + T - 1 -> [B, T, d_model].
  torch::Tensor embed_at(const torch::Tensor& tokens, int64_t offset);
};
TORCH_MODULE(DecoderOnlyLM);

}  // namespace torchzoo::models
