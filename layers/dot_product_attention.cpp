#include "torchzoo/layers/dot_product_attention.h"

#include <ATen/ops/dropout.h>
#include <ATen/ops/scaled_dot_product_attention.h>

#include <cmath>

namespace torchzoo::layers {

torch::Tensor dot_product_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const DotProductAttentionArgs& args) {
  const double p = args.training ? args.dropout : 0.0;
  if (args.fused && args.weights == nullptr) {
    return at::scaled_dot_product_attention(q, k, v, args.mask.defined() ? std::optional(args.mask) : std::nullopt,
                                            p);  // [B, h, T_q, d_k]
  }
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));  // [B, h, T_q, T_k]
  if (args.mask.defined()) {
    scores = scores.masked_fill(args.mask.logical_not(), -1e9);
  }
  auto p_attn = scores.softmax(-1);  // [B, h, T_q, T_k]
  if (args.weights != nullptr) {
    *args.weights = p_attn.detach();
  }
  return torch::matmul(at::dropout(p_attn, p, args.training), v);  // [B, h, T_q, d_k]
}

}  // namespace torchzoo::layers
