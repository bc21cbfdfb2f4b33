#include "torchzoo/layers/dot_product_attention.h"

#include <ATen/ops/scaled_dot_product_attention.h>

#include <cmath>

#include "torchzoo/layers/detail/one_query_attention.h"
#include "torchzoo/layers/dropout.h"

namespace torchzoo::layers {

torch::Tensor dot_product_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const DotProductAttentionArgs& args) {
  const double p = args.training ? args.dropout : 0.0;
  // SDPA's CPU kernels have no dropout: in training with dropout they fall back to the math below
  // with ATen's per-element Bernoulli draws, so the CPU takes the math with the fast dropout.
  const bool cpu_dropout = p > 0.0 && q.device().is_cpu();
  if (args.fused && args.weights == nullptr && !cpu_dropout) {
    if (p == 0.0 && detail::one_query_attention_applies(q, k, v, args.mask)) {
      return detail::one_query_attention(q, k, v, args.mask);  // a decoding step: [B, h, 1, d_k]
    }
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
  return torch::matmul(fused_dropout(p_attn, p, args.training), v);  // [B, h, T_q, d_k]
}

}  // namespace torchzoo::layers
