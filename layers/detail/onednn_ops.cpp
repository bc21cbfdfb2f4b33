#include "torchzoo/layers/detail/onednn_ops.h"

#include <c10/util/Exception.h>

namespace torchzoo::detail {

const OneDnnOps& onednn_ops() {
  static const OneDnnOps ops = [] {
    OneDnnOps found;
    auto& dispatcher = c10::Dispatcher::singleton();
    const auto reorder = dispatcher.findSchema({"mkldnn::_reorder_linear_weight", ""});
    const auto linear = dispatcher.findSchema({"mkldnn::_linear_pointwise", ""});
    if (reorder && linear) {
      try {  // a LibTorch whose schemas differ from these signatures keeps at::linear
        found.reorder = reorder->typed<OneDnnReorderOp>();
        found.linear = linear->typed<OneDnnLinearOp>();
      } catch (const c10::Error&) {
        found = OneDnnOps{};
      }
    }
    return found;
  }();
  return ops;
}

torch::Tensor onednn_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, bool relu) {
  TORCH_CHECK(onednn_ops().linear.has_value(), "onednn_linear: this LibTorch has no mkldnn::_linear_pointwise");
  return onednn_ops().linear->call(x, weight, bias.defined() ? std::optional(bias) : std::nullopt,
                                   relu ? "relu" : "none", c10::List<std::optional<at::Scalar>>(), std::nullopt);
}

}  // namespace torchzoo::detail
