#pragma once
// The annotated Transformer's LayerNorm, a * (x - mean) / (std + eps) + b with
// the unbiased std, as one CPU kernel for float tensors: one pass over each row
// forward and one backward (with the gradients of a and b), instead of the
// seven elementwise ops the formula dispatches, their saved intermediates and
// their backward ops. Rows are spread over ATen's intra-op threads.
//
// Gradients are the formula's: with d = x - mean, r = 1 / (std + eps),
// gh = grad * a and n features,
//   dx = r * (gh - mean(gh)) - r^2 / (std * (n - 1)) * sum(gh * d) * d
//   da = sum over rows of grad * d * r,   db = sum over rows of grad.
// A constant row (std 0) gets dx = r * (gh - mean(gh)), where autograd through
// the formula gives NaN (0 / 0 in std's backward).
//
// Shapes: x [..., n], a and b [n] -> [..., n].
#include <torch/types.h>

namespace torchzoo::detail {

/// Whether the kernel takes these tensors: float, on the CPU, a and b of x's last size.
bool annotated_layer_norm_fusable(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b);

/// a * (x - mean) / (std + eps) + b over the last dimension, differentiable in x, a and b.
torch::Tensor annotated_layer_norm(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b, double eps);

}  // namespace torchzoo::detail
