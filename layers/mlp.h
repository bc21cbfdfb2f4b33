#pragma once
// The Vision Transformer's MLP (timm's Mlp): fc1, GELU, dropout, fc2, dropout.
// The same function as PositionwiseFeedForward with gelu, kept apart for
// timm's parameter names (`fc1`, `fc2` against `w_1`, `w_2`) and its second
// dropout after fc2.
//
// Shapes: x [..., in_features] -> [..., out_features]; hidden [..., hidden_features].
#include <torch/nn/cloneable.h>
#include "torchzoo/layers/dropout.h"
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Options of Mlp: input and hidden widths, the output width and the dropout.
struct MlpOptions {
  MlpOptions(int64_t in_features, int64_t hidden_features)
      : in_features_(in_features), hidden_features_(hidden_features), out_features_(in_features) {}
  /// Input width.
  TORCH_ARG(int64_t, in_features);
  /// Hidden width (after fc1).
  TORCH_ARG(int64_t, hidden_features);
  /// Defaults to in_features.
  TORCH_ARG(int64_t, out_features);
  /// Dropout after the activation and after fc2.
  TORCH_ARG(double, drop) = 0.0;
};

/// The Vision Transformer's MLP (timm's Mlp): fc1, GELU, dropout, fc2, dropout; used through the
/// module holder Mlp.
///
/// Example:
///   Mlp mlp(MlpOptions(192, 768).drop(0.1));
class MlpImpl : public torch::nn::Cloneable<MlpImpl> {
 public:
  explicit MlpImpl(MlpOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// x [..., in_features] -> [..., out_features].
  torch::Tensor forward(const torch::Tensor& x);

  MlpOptions options;
  torch::nn::Linear fc1{nullptr};
  Dropout drop1{nullptr};
  torch::nn::Linear fc2{nullptr};
  Dropout drop2{nullptr};
};
TORCH_MODULE(Mlp);

}  // namespace torchzoo::layers
