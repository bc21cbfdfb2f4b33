#pragma once
// DropPath, stochastic depth (Huang et al. 2016): during training, drop a
// whole residual branch for each sample with probability p, and scale the
// kept ones by 1 / (1 - p) so the expectation is unchanged. Identity in eval.
//   y = x * mask / (1 - p),  mask [B, 1, ..., 1] ~ Bernoulli(1 - p)
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Options of DropPath: the drop probability.
struct DropPathOptions {
  /* implicit */ DropPathOptions(double p = 0.0) : p_(p) {}
  /// Probability of dropping the branch of a sample.
  TORCH_ARG(double, p);
};

/// Stochastic depth (Huang et al. 2016), used through the module holder DropPath: in training each
/// sample's branch is dropped with probability p and kept ones are scaled by 1 / (1 - p); identity
/// in eval.
///
/// Example:
///   DropPath drop_path(DropPathOptions(0.1));
///   x = x + drop_path(branch(x));
class DropPathImpl : public torch::nn::Cloneable<DropPathImpl> {
 public:
  explicit DropPathImpl(DropPathOptions options = {});
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// x [B, ...] -> [B, ...]
  torch::Tensor forward(const torch::Tensor& x);

  DropPathOptions options;
};
TORCH_MODULE(DropPath);

}  // namespace torchzoo::layers
