#pragma once
// Dropout with a fast CPU kernel: in training, each element is kept with
// probability 1 - p and scaled by 1 / (1 - p), or zeroed, as torch::dropout does.
// On the CPU the keep/drop decision of element i is a counter-based hash of
// (seed, i), the seed drawn from the default CPU generator once per call:
// one vectorised pass instead of ATen's per-element Bernoulli draws (which cost
// a tenth of a Transformer training step on 2 cores), independent of the thread
// count, reproducible under torch::manual_seed, and the backward pass re-derives
// the mask from the seed instead of storing it. The masks differ from
// torch::dropout's for the same seed (same distribution, other draws). Other
// devices (CUDA has its own fused kernel) and dtypes use torch::dropout.
//
// fused_dropout_add(x, residual, p) is residual + dropout(x, p) in one pass: the
// residual branch of a Transformer sublayer. fused_relu_dropout(x, p) is
// dropout(relu(x), p) in one pass: a feed-forward's hidden activations.
//
// Shapes: x [...] -> [...]; residual as x.
//
// Example:
//   Dropout drop(0.1);
//   auto y = drop(x);                        // dropout(x)
//   auto z = drop->forward_add(y, x);        // x + dropout(y)
#include <torch/nn/cloneable.h>
#include <torch/nn/options/dropout.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// dropout(x) in training, the mask and the scaling in one pass (p in [0, 1)), x itself otherwise.
torch::Tensor fused_dropout(const torch::Tensor& x, double p, bool training);

/// residual + dropout(x): in training one fused pass on the CPU; residual + x otherwise.
torch::Tensor fused_dropout_add(const torch::Tensor& x, const torch::Tensor& residual, double p, bool training);

/// dropout(relu(x)) in one pass (training on the CPU); its backward reads only the output.
torch::Tensor fused_relu_dropout(const torch::Tensor& x, double p, bool training);

/// Dropout with torch::dropout's semantics and a one-pass CPU kernel (see the top of
/// layers/dropout.h), used through the module holder Dropout; options are torch's DropoutOptions.
///
/// Example:
///   Dropout drop(0.1);
///   auto y = drop(x);                        // dropout(x)
///   auto z = drop->forward_add(y, x);        // x + dropout(y)
class DropoutImpl : public torch::nn::Cloneable<DropoutImpl> {
 public:
  explicit DropoutImpl(torch::nn::DropoutOptions options = {});
  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  /// dropout(x), x [...] -> [...].
  torch::Tensor forward(const torch::Tensor& x);
  /// dropout(relu(x)).
  torch::Tensor forward_relu(const torch::Tensor& x);
  /// residual + dropout(x).
  torch::Tensor forward_add(const torch::Tensor& x, const torch::Tensor& residual);

  torch::nn::DropoutOptions options;
};

TORCH_MODULE(Dropout);

}  // namespace torchzoo::layers
