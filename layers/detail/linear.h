#pragma once
// torch::nn::Linear's forward (torch::nn::functional::linear) computes a
// [B, T, in] input as matmul followed by a separate in-place bias add, while
// Python's nn.Linear calls the ATen op at::linear, which folds the batch
// dimensions into one fused addmm. The annotated layers keep their
// torch::nn::Linear submodules (for the parameter names) and call at::linear
// through this helper, so their forward does the same work as PyTorch's.
#include <ATen/ops/linear.h>
#include <torch/nn/modules/linear.h>

namespace torchzoo::detail {

/// x [..., in] -> [..., out] with the module's weight and bias.
inline torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x) {
  return at::linear(x, layer->weight, layer->bias.defined() ? std::optional(layer->bias) : std::nullopt);
}

}  // namespace torchzoo::detail
