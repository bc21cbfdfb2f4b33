#include "torchzoo/layers/detail/linear.h"

#include <atomic>
#include <optional>

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/linear.h>
#include <torch/autograd.h>
#include <torch/torch.h>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/detail/onednn_ops.h"
#include "torchzoo/layers/linear_kernel.h"

namespace torchzoo {
namespace layers {
namespace {
std::atomic<LinearKernel> g_kernel{LinearKernel::kBlas};
}  // namespace

void set_linear_kernel(LinearKernel kernel) { g_kernel.store(kernel, std::memory_order_relaxed); }

LinearKernel linear_kernel() { return g_kernel.load(std::memory_order_relaxed); }

bool onednn_linear_available() {
  return detail::onednn_ops().linear.has_value() && at::globalContext().userEnabledMkldnn();
}

std::string to_string(LinearKernel kernel) { return kernel == LinearKernel::kOneDnn ? "onednn" : "blas"; }

LinearKernel parse_linear_kernel(const std::string& name) {
  if (name == "blas") return LinearKernel::kBlas;
  if (name == "onednn") return LinearKernel::kOneDnn;
  TORCHZOO_CHECK(false, "linear kernel: expected blas or onednn, got '{}'", name);
  return LinearKernel::kBlas;  // not reached
}

}  // namespace layers

namespace detail {
namespace {

/// x W^T + b through oneDNN, and its gradients
///   dL/dx = dL/dy W (oneDNN),  dL/dW = (dL/dy)^T x (BLAS),  dL/db = sum of dL/dy over the rows.
/// The weight's gradient reduces over every row of the batch; oneDNN's product for that shape ran at
/// half of MKL's speed on an AMD EPYC (at 6400 rows, a ViT's), where it won the other two.
struct OneDnnLinearFunction : torch::autograd::Function<OneDnnLinearFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const std::optional<torch::Tensor>& bias) {
    const auto in = weight.size(1), out = weight.size(0);
    const auto rows = x.reshape({-1, in}).contiguous();  // [N, in]
    ctx->save_for_backward({rows, weight});
    ctx->saved_data["sizes"] = x.sizes().vec();
    ctx->saved_data["bias"] = bias.has_value();
    auto sizes = x.sizes().vec();
    sizes.back() = out;
    return onednn_linear(rows, weight, bias.value_or(torch::Tensor())).view(sizes);  // [..., out]
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& rows = saved[0];                                            // [N, in]
    const auto& weight = saved[1];                                          // [out, in]
    const auto grad = grads[0].reshape({-1, weight.size(0)}).contiguous();  // [N, out]
    torch::Tensor grad_x, grad_weight, grad_bias;
    if (ctx->needs_input_grad(0)) {
      grad_x = onednn_linear(grad, weight.t()).view(ctx->saved_data["sizes"].toIntVector());  // [..., in]
    }
    if (ctx->needs_input_grad(1)) grad_weight = torch::mm(grad.t(), rows);                      // [out, in]
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) grad_bias = grad.sum(0);  // [out]
    return {grad_x, grad_weight, grad_bias};
  }
};

bool takes_onednn(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const auto is_cpu_float = [](const torch::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == at::kFloat; };
  return layers::linear_kernel() == layers::LinearKernel::kOneDnn && is_cpu_float(x) && is_cpu_float(weight) &&
         (!bias.defined() || is_cpu_float(bias)) && x.dim() >= 1 && weight.dim() == 2 && x.size(-1) == weight.size(1) &&
         x.numel() > 0 && !x.is_mkldnn() && !weight.is_mkldnn() && !at::autocast::is_autocast_enabled(at::kCPU) &&
         layers::onednn_linear_available();
}

}  // namespace

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (takes_onednn(x, weight, bias)) {
    // An optional bias: the custom function's inputs must be defined tensors or absent ones.
    return OneDnnLinearFunction::apply(x, weight, bias.defined() ? std::optional(bias) : std::nullopt);
  }
  return at::linear(x, weight, bias.defined() ? std::optional(bias) : std::nullopt);
}

}  // namespace detail
}  // namespace torchzoo
