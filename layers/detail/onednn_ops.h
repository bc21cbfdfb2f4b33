#pragma once
// oneDNN's linear ops as LibTorch registers them (mkldnn::_reorder_linear_weight,
// mkldnn::_linear_pointwise: the kernels Inductor's weight freezing calls), found
// once through the dispatcher. A LibTorch built without them, or whose schemas
// differ, has none, and callers keep at::linear.
#include <optional>

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/types.h>

namespace torchzoo::detail {

using OneDnnReorderOp = at::Tensor(const at::Tensor&, std::optional<int64_t>);
using OneDnnLinearOp = at::Tensor(const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&,
                                  c10::string_view, c10::List<std::optional<at::Scalar>>,
                                  std::optional<c10::string_view>);

/// The ops, or nothing where this build has none.
struct OneDnnOps {
  /// weight [out, in] float -> the same weight in oneDNN's blocked layout
  std::optional<c10::TypedOperatorHandle<OneDnnReorderOp>> reorder;
  /// (x [..., in], weight [out, in] plain or reordered, bias [out]?, "none"|"relu", {}, {}) -> x weight^T + b
  std::optional<c10::TypedOperatorHandle<OneDnnLinearOp>> linear;
};

const OneDnnOps& onednn_ops();

/// x [..., in] weight^T (+ bias) through oneDNN on plain (strided) operands: float32 CPU tensors only,
/// and only where onednn_ops().linear is present.
torch::Tensor onednn_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {},
                            bool relu = false);

}  // namespace torchzoo::detail
