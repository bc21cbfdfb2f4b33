#pragma once
// LayerScale (Touvron et al. 2021, "Going deeper with Image Transformers"):
// a learned per-channel gain on a residual branch, started small.
//   y = x * gamma,  gamma [dim] initialised to init_values.
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Options of LayerScale: the channel count and the initial gain.
struct LayerScaleOptions {
  LayerScaleOptions(int64_t dim, double init_values) : dim_(dim), init_values_(init_values) {}
  /// Channels (the last dimension of the input).
  TORCH_ARG(int64_t, dim);
  /// Initial value of every gain (e.g. 1e-5 in CaiT, 0.1 for shallow models).
  TORCH_ARG(double, init_values);
};

/// LayerScale (Touvron et al. 2021): a learned per-channel gain `gamma` [dim] on a residual branch,
/// started at init_values; used through the module holder LayerScale.
///
/// Example:
///   LayerScale ls(LayerScaleOptions(192, 1e-5));
///   auto y = ls(x);  // x * gamma, x: [B, N, 192]
class LayerScaleImpl : public torch::nn::Cloneable<LayerScaleImpl> {
 public:
  explicit LayerScaleImpl(LayerScaleOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// x [..., dim] -> [..., dim]
  torch::Tensor forward(const torch::Tensor& x);

  LayerScaleOptions options;
  torch::Tensor gamma;
};
TORCH_MODULE(LayerScale);

}  // namespace torchzoo::layers
