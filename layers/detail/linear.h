#pragma once
// torch::nn::Linear's forward (torch::nn::functional::linear) computes a
// [B, T, in] input as matmul followed by a separate in-place bias add, while
// Python's nn.Linear calls the ATen op at::linear, which folds the batch
// dimensions into one fused addmm. The annotated layers keep their
// torch::nn::Linear submodules (for the parameter names) and call linear()
// here, so their forward does the same work as PyTorch's: at::linear, or
// oneDNN's kernel with its own backward where layers::linear_kernel() says so.
#include <torch/nn/modules/linear.h>

namespace torchzoo::detail {

/// x [..., in] -> x weight^T + bias [..., out], with the kernel layers::linear_kernel() picks.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

/// x [..., in] -> [..., out] with the module's weight and bias.
inline torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x) {
  return linear(x, layer->weight, layer->bias);
}

}  // namespace torchzoo::detail
