#pragma once
// The Vision Transformer's encoder block (Dosovitskiy et al. 2021, eq. 2-3;
// timm's Block): pre-norm self-attention and MLP, each on a residual branch
// with optional LayerScale and stochastic depth.
//   x = x + drop_path1(ls1(attn(norm1(x))))
//   x = x + drop_path2(ls2(mlp(norm2(x))))
// Shapes: x [B, N, dim] -> [B, N, dim].
#include <optional>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/attention.h"
#include "torchzoo/layers/drop_path.h"
#include "torchzoo/layers/layer_scale.h"
#include "torchzoo/layers/mlp.h"

namespace torchzoo::layers {

/// Options of VitBlock: the token width and the number of heads, the rest with timm's defaults.
struct VitBlockOptions {
  VitBlockOptions(int64_t dim, int64_t num_heads) : dim_(dim), num_heads_(num_heads) {}
  /// Token width.
  TORCH_ARG(int64_t, dim);
  /// Attention heads.
  TORCH_ARG(int64_t, num_heads);
  /// MLP hidden width = int(dim * mlp_ratio).
  TORCH_ARG(double, mlp_ratio) = 4.0;
  /// Bias on the attention's qkv projection.
  TORCH_ARG(bool, qkv_bias) = false;
  /// Dropout after the attention projection and in the MLP.
  TORCH_ARG(double, proj_drop) = 0.0;
  /// Dropout on the attention weights.
  TORCH_ARG(double, attn_drop) = 0.0;
  /// LayerScale's initial gain; none: no LayerScale (ls1/ls2 are identities).
  TORCH_ARG(std::optional<double>, init_values) = std::nullopt;
  /// Stochastic-depth probability of both branches.
  TORCH_ARG(double, drop_path) = 0.0;
  /// timm's ViT uses LayerNorm(eps=1e-6).
  TORCH_ARG(double, layer_norm_eps) = 1e-6;
  /// Attention through at::scaled_dot_product_attention.
  TORCH_ARG(bool, fused_attention) = true;

 public:
  /// The MLP's hidden width, int(dim * mlp_ratio).
  int64_t mlp_hidden() const { return static_cast<int64_t>(static_cast<double>(dim_) * mlp_ratio_); }
};

/// The Vision Transformer's encoder block (timm's Block): pre-norm self-attention and MLP, each on
/// a residual branch with optional LayerScale and stochastic depth. Used through the module holder
/// VitBlock.
///
/// Example:
///   VitBlock block(VitBlockOptions(192, 3).qkv_bias(true).drop_path(0.1));
class VitBlockImpl : public torch::nn::Cloneable<VitBlockImpl> {
 public:
  explicit VitBlockImpl(VitBlockOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// x [B, N, dim] -> [B, N, dim].
  torch::Tensor forward(const torch::Tensor& x);

  VitBlockOptions options;
  torch::nn::LayerNorm norm1{nullptr};
  Attention attn{nullptr};
  LayerScale ls1{nullptr};  ///< null without init_values
  DropPath drop_path1{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  Mlp mlp{nullptr};
  LayerScale ls2{nullptr};  ///< null without init_values
  DropPath drop_path2{nullptr};
};
TORCH_MODULE(VitBlock);

}  // namespace torchzoo::layers
