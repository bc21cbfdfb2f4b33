#pragma once
// Attention of a single query position, softmax(q K^T / sqrt(d_k)) V, for
// incremental decoding on the CPU: each step's new position attends over the
// cached keys and values. One pass per (row, head) -- scores, softmax and the
// weighted sum of values -- in parallel over rows x heads, reading the cache
// where it lies (KeyValue's room is strided). At one query position PyTorch's
// flash-attention CPU kernel spends most of its time on blocking meant for
// long queries (BENCHMARKS.md).
//
// Shapes: q [B, h, 1, d_k]; k and v [B, h, T_k, d_k] with unit stride on d_k;
//         mask bool broadcastable to [B, 1, 1, T_k] (true = may attend) or undefined;
//         result [B, h, 1, d_k]. Masked scores count as -1e9, as on the math path.
#include <torch/types.h>

namespace torchzoo::detail {

/// Whether one_query_attention takes these inputs: float32 on the CPU, one query position, unit
/// stride on d_k, a mask (if any) of one row per batch row or one for all, no gradients.
bool one_query_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& mask);

torch::Tensor one_query_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  const torch::Tensor& mask);

}  // namespace torchzoo::detail
