#pragma once
// Layer normalisation as written in the annotated Transformer:
//   a_2 * (x - mean) / (std + eps) + b_2,   std unbiased (Bessel-corrected)
// which differs from torch::nn::LayerNorm (biased variance, eps inside the
// square root). `use_torch_layer_norm(true)` switches to torch::layer_norm for
// speed; the parameters keep the reference names a_2 (gain) and b_2 (bias).
// Shapes: x [..., features] -> [..., features].
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Options of LayerNorm: the normalised width, eps and which formula.
struct LayerNormOptions {
  /* implicit */ LayerNormOptions(int64_t features) : features_(features) {}
  /// Size of the last dimension being normalised.
  TORCH_ARG(int64_t, features);
  /// Added to the standard deviation (annotated) or to the variance (torch).
  TORCH_ARG(double, eps) = 1e-6;
  /// Use torch::layer_norm (biased variance, eps inside sqrt) instead of the annotated formula.
  TORCH_ARG(bool, use_torch_layer_norm) = false;
};

/// Layer normalisation as the annotated Transformer writes it, a_2 * (x - mean) / (std + eps) + b_2
/// with the unbiased std, or torch::layer_norm's formula; used through the module holder LayerNorm.
///
/// Example:
///   LayerNorm norm(LayerNormOptions(512).eps(1e-6));
///   auto y = norm(x);  // x: [B, T, 512]
class LayerNormImpl : public torch::nn::Cloneable<LayerNormImpl> {
 public:
  explicit LayerNormImpl(LayerNormOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// x [..., features] -> [..., features].
  torch::Tensor forward(const torch::Tensor& x);

  LayerNormOptions options;
  torch::Tensor a_2;  ///< gain, [features], ones
  torch::Tensor b_2;  ///< bias, [features], zeros
};
TORCH_MODULE(LayerNorm);

}  // namespace torchzoo::layers
