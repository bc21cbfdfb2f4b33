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
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/decoder.h"
#include "torchzoo/layers/embeddings.h"
#include "torchzoo/layers/encoder.h"
#include "torchzoo/layers/generator.h"
#include "torchzoo/layers/positional_encoding.h"

namespace torchzoo::models {

/// Defaults are the reference's make_model(src_vocab, tgt_vocab, N=6, d_model=512, d_ff=2048, h=8, dropout=0.1).
struct EncoderDecoderOptions {
  EncoderDecoderOptions(int64_t src_vocab, int64_t tgt_vocab) : src_vocab_(src_vocab), tgt_vocab_(tgt_vocab) {}
  /// Source vocabulary size.
  TORCH_ARG(int64_t, src_vocab);
  /// Target vocabulary size.
  TORCH_ARG(int64_t, tgt_vocab);
  /// Layers in each of the encoder and decoder stacks (N).
  TORCH_ARG(int64_t, num_layers) = 6;
  /// Model width.
  TORCH_ARG(int64_t, d_model) = 512;
  /// Feed-forward hidden width.
  TORCH_ARG(int64_t, d_ff) = 2048;
  /// Attention heads (h).
  TORCH_ARG(int64_t, num_heads) = 8;
  /// Dropout on embeddings, residual branches and feed-forward activations.
  TORCH_ARG(double, dropout) = 0.1;
  /// Dropout on attention weights (the reference uses 0.1 whatever `dropout` is).
  TORCH_ARG(double, attention_dropout) = 0.1;
  /// Feed-forward activation.
  TORCH_ARG(layers::Activation, activation) = layers::Activation::kRelu;
  /// Pre-norm (the reference) or post-norm residual blocks.
  TORCH_ARG(bool, norm_first) = true;
  /// eps of every LayerNorm.
  TORCH_ARG(double, layer_norm_eps) = 1e-6;
  /// torch::layer_norm instead of the annotated LayerNorm formula.
  TORCH_ARG(bool, use_torch_layer_norm) = false;
  /// Fused scaled-dot-product attention.
  TORCH_ARG(bool, fused_attention) = true;
  /// Longest sequence the positional encoding covers.
  TORCH_ARG(int64_t, max_len) = 5000;

 public:
  /// Options shared by every encoder and decoder layer.
  layers::TransformerLayerOptions layer() const;
};

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

  torch::Tensor encode(const torch::Tensor& src, const torch::Tensor& src_mask);
  torch::Tensor decode(const torch::Tensor& memory, const torch::Tensor& src_mask, const torch::Tensor& tgt,
                       const torch::Tensor& tgt_mask);
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& tgt, const torch::Tensor& src_mask,
                        const torch::Tensor& tgt_mask);

  EncoderDecoderOptions options;
  layers::Encoder encoder{nullptr};
  layers::Decoder decoder{nullptr};
  torch::nn::Sequential src_embed{nullptr};  ///< Embeddings, PositionalEncoding
  torch::nn::Sequential tgt_embed{nullptr};  ///< Embeddings, PositionalEncoding
  layers::Generator generator{nullptr};
};
TORCH_MODULE(EncoderDecoder);

}  // namespace torchzoo::models
