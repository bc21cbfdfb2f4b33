#pragma once
// Position-wise feed-forward network (Vaswani et al. 2017, section 3.3):
//   FFN(x) = w_2(dropout(act(w_1(x))))
// Shapes: x [B, T, d_model] -> [B, T, d_model]; hidden [B, T, d_ff].
#include <torch/nn/cloneable.h>
#include "torchzoo/layers/detail/packed_linear.h"
#include "torchzoo/layers/dropout.h"
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/activation.h"

namespace torchzoo::layers {

/// Options of PositionwiseFeedForward: the widths, the dropout and the activation.
struct PositionwiseFeedForwardOptions {
  PositionwiseFeedForwardOptions(int64_t d_model, int64_t d_ff) : d_model_(d_model), d_ff_(d_ff) {}
  /// Input and output width.
  TORCH_ARG(int64_t, d_model);
  /// Hidden width (2048 in the paper's base model).
  TORCH_ARG(int64_t, d_ff);
  /// Dropout on the hidden activations.
  TORCH_ARG(double, dropout) = 0.1;
  /// relu (the paper) or gelu.
  TORCH_ARG(Activation, activation) = Activation::kRelu;
};

/// Position-wise feed-forward network, w_2(dropout(act(w_1(x)))) (Vaswani et al. 2017, section
/// 3.3); used through the module holder PositionwiseFeedForward.
///
/// Example:
///   PositionwiseFeedForward ff(PositionwiseFeedForwardOptions(512, 2048).activation(Activation::kGelu));
class PositionwiseFeedForwardImpl : public torch::nn::Cloneable<PositionwiseFeedForwardImpl> {
 public:
  explicit PositionwiseFeedForwardImpl(PositionwiseFeedForwardOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// x [B, T, d_model] -> [B, T, d_model].
  torch::Tensor forward(const torch::Tensor& x);
  /// Inference through int8 linears (detail::PackedLinear::set_int8), or float32 again with false.
  void set_int8_inference(bool on);

  PositionwiseFeedForwardOptions options;
  torch::nn::Linear w_1{nullptr};
  torch::nn::Linear w_2{nullptr};
  Dropout dropout{nullptr};

 private:
  /// w_1 and w_2 through oneDNN's packed weights where detail::PackedLinear applies (inference).
  detail::PackedLinear packed_w_1_, packed_w_2_;
};
TORCH_MODULE(PositionwiseFeedForward);

}  // namespace torchzoo::layers
