#pragma once
// Multi-head self-attention with one fused qkv projection (timm's Attention,
// used by the Vision Transformer): qkv = Linear(dim, 3 dim), split into heads,
// attend, then the output projection `proj`. The math is the annotated
// Transformer's MultiHeadedAttention with its three input linears stacked into
// one matrix; both call dot_product_attention. This module exists separately
// because the parameters differ in layout and name (`qkv`, `proj` against
// `linears.0..3`), which is what lets timm checkpoints load 1:1.
//
// Shapes: x [B, N, dim] -> [B, N, dim]; attention weights [B, num_heads, N, N].
#include <torch/nn/cloneable.h>
#include "torchzoo/layers/dropout.h"
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Options of Attention: the token width and the number of heads, the rest with timm's defaults.
struct AttentionOptions {
  AttentionOptions(int64_t dim, int64_t num_heads) : dim_(dim), num_heads_(num_heads) {}
  /// Token width; must be divisible by num_heads.
  TORCH_ARG(int64_t, dim);
  /// Attention heads; head width dim / num_heads.
  TORCH_ARG(int64_t, num_heads);
  /// Bias on the qkv projection (timm's Attention default: no; its VisionTransformer: yes).
  TORCH_ARG(bool, qkv_bias) = false;
  /// Dropout on the attention weights.
  TORCH_ARG(double, attn_drop) = 0.0;
  /// Dropout after the output projection.
  TORCH_ARG(double, proj_drop) = 0.0;
  /// at::scaled_dot_product_attention unless the weights are to be kept.
  TORCH_ARG(bool, fused) = true;
  /// Keep the last attention map (forces the math path); read it with attention_weights().
  TORCH_ARG(bool, keep_attention_weights) = false;
};

/// Multi-head self-attention with one fused qkv projection (timm's Attention), used through the
/// module holder Attention. Parameters `qkv` and `proj` carry timm's names.
///
/// Example:
///   Attention attn(AttentionOptions(192, 3).qkv_bias(true));
///   auto y = attn(tokens);  // [B, 50, 192]
class AttentionImpl : public torch::nn::Cloneable<AttentionImpl> {
 public:
  explicit AttentionImpl(AttentionOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// Self-attention of the tokens x [B, N, dim] -> [B, N, dim].
  torch::Tensor forward(const torch::Tensor& x);

  /// Attention map [B, num_heads, N, N] of the last forward when keep_attention_weights is set.
  const torch::Tensor& attention_weights() const { return attention_weights_; }

  AttentionOptions options;
  torch::nn::Linear qkv{nullptr};
  torch::nn::Linear proj{nullptr};
  Dropout proj_drop{nullptr};

 private:
  torch::Tensor attention_weights_;
};
TORCH_MODULE(Attention);

}  // namespace torchzoo::layers
