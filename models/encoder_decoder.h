#pragma once
// Encoder-decoder Transformer for sequence-to-sequence tasks (Vaswani et al.
// 2017; annotated Transformer `EncoderDecoder` and `make_model`).
//
// Submodules and parameter names equal the reference's state_dict keys:
//   src_embed.0.lut.weight, src_embed.1.pe, encoder.layers.0.self_attn.linears.0.weight,
//   encoder.layers.0.sublayer.0.norm.a_2, decoder.layers.0.src_attn..., generator.proj.weight
//
// Shapes: src [B, T_src] int64, tgt [B, T_tgt] int64,
//         src_mask bool [B, 1, T_src], tgt_mask bool [B, T_tgt, T_tgt] (true = may attend).
//   encode  -> memory [B, T_src, d_model]
//   decode  -> [B, T_tgt, d_model]
//   forward -> [B, T_tgt, d_model] (apply `generator` for log-probabilities, as the reference does)
//
// Incremental decoding (greedy and beam search, train/decode/greedy_decode.h and
// train/decode/beam_search.h): init_decoder_state(memory, src_mask) projects the
// memory once for every decoder layer, then decode_step(tokens [B, 1], state)
// -> [B, 1, d_model] embeds the last tokens at position state.length() and
// decodes that one position with the cached keys and values. The steps give
// decode()'s outputs under a subsequent mask, one position at a time.
//
// Weight tying (share_embeddings, tie_generator) registers one tensor under
// several of the names above; optimizers and gradient clipping must then take
// layers::unique_parameters(model) (layers/shared_parameters.h), not parameters().
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/decoder.h"
#include "torchzoo/layers/decoder_state.h"
#include "torchzoo/layers/embeddings.h"
#include "torchzoo/layers/encoder.h"
#include "torchzoo/layers/generator.h"
#include "torchzoo/layers/positional_encoding.h"
#include "torchzoo/layers/transformer_stack_options.h"

namespace torchzoo::models {

/// Defaults are the reference's make_model(src_vocab, tgt_vocab, N=6, d_model=512, d_ff=2048, h=8, dropout=0.1).
/// The stack's fields (num_layers, d_model, num_heads, d_ff, dropout, attention_dropout, activation,
/// norm_first, layer_norm_eps, use_torch_layer_norm, fused_attention) come from TransformerStackOptions;
/// `dropout` also applies to the embeddings. The reference keeps attention_dropout 0.1 whatever
/// `dropout` is.
struct EncoderDecoderOptions : layers::TransformerStackOptions<EncoderDecoderOptions> {
  EncoderDecoderOptions(int64_t src_vocab, int64_t tgt_vocab)
      : TransformerStackOptions(layers::TransformerLayerOptions(/*d_model=*/512, /*num_heads=*/8, /*d_ff=*/2048),
                                /*num_layers=*/6),
        src_vocab_(src_vocab),
        tgt_vocab_(tgt_vocab) {}
  /// Source vocabulary size.
  TORCH_ARG(int64_t, src_vocab);
  /// Target vocabulary size.
  TORCH_ARG(int64_t, tgt_vocab);
  /// Longest sequence the positional encoding covers.
  TORCH_ARG(int64_t, max_len) = 5000;
  /// src_embed and tgt_embed use one embedding matrix (a joint vocabulary: src_vocab must equal tgt_vocab);
  /// it is listed under both src_embed.0.lut.weight and tgt_embed.0.lut.weight.
  TORCH_ARG(bool, share_embeddings) = false;
  /// generator.proj.weight is the target embedding matrix (Press & Wolf 2017; Vaswani et al. 2017, section 3.4);
  /// the generator keeps its own bias.
  TORCH_ARG(bool, tie_generator) = false;
};

/// Encoder-decoder Transformer (Vaswani et al. 2017; annotated Transformer `EncoderDecoder` and
/// `make_model`) with the reference's parameter names; used through the module holder EncoderDecoder.
///
/// Example:
///   EncoderDecoder model(EncoderDecoderOptions(/*src_vocab=*/11, /*tgt_vocab=*/11).num_layers(2));
///   auto log_probs = model->generator(model(src, tgt, src_mask, tgt_mask));  // [B, T_tgt, 11]
class EncoderDecoderImpl : public torch::nn::Cloneable<EncoderDecoderImpl> {
 public:
  explicit EncoderDecoderImpl(EncoderDecoderOptions options);
  void reset() override;
  /// Xavier-uniform on every matrix (parameters with dim > 1), as make_model does.
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  /// src [B, T_src] int64, src_mask bool [B, 1, T_src] -> memory [B, T_src, d_model].
  torch::Tensor encode(const torch::Tensor& src, const torch::Tensor& src_mask);
  /// tgt [B, T_tgt] int64 over memory [B, T_src, d_model], with tgt_mask bool [B, T_tgt, T_tgt]
  /// -> [B, T_tgt, d_model].
  torch::Tensor decode(const torch::Tensor& memory, const torch::Tensor& src_mask, const torch::Tensor& tgt,
                       const torch::Tensor& tgt_mask);
  /// decode(encode(src, src_mask), src_mask, tgt, tgt_mask) -> [B, T_tgt, d_model]; apply `generator`
  /// for log-probabilities, as the reference does.
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& tgt, const torch::Tensor& src_mask,
                        const torch::Tensor& tgt_mask);

  /// Decoder state before the first target position: memory [B, T_src, d_model] (from encode)
  /// projected for every decoder layer, and src_mask [B, 1, T_src].
  layers::DecoderState init_decoder_state(const torch::Tensor& memory, const torch::Tensor& src_mask);
  /// tokens [B, 1] at target position state.length() -> decoder output [B, 1, d_model] for that
  /// position (apply `generator` for the next token's log-probabilities); advances `state` by one.
  torch::Tensor decode_step(const torch::Tensor& tokens, layers::DecoderState& state);

  /// Cloneable::clone copies every parameter on its own, which would untie shared weights:
  /// the copy is re-tied.
  std::shared_ptr<torch::nn::Module> clone(const std::optional<torch::Device>& device = std::nullopt) const override;

  EncoderDecoderOptions options;
  layers::Encoder encoder{nullptr};
  layers::Decoder decoder{nullptr};
  torch::nn::Sequential src_embed{nullptr};  ///< Embeddings, PositionalEncoding
  torch::nn::Sequential tgt_embed{nullptr};  ///< Embeddings, PositionalEncoding
  layers::Generator generator{nullptr};

 private:
  /// Registers the shared tensors of share_embeddings and tie_generator under their names.
  void tie_weights();
};
TORCH_MODULE(EncoderDecoder);

}  // namespace torchzoo::models
