#pragma once
// Scaled dot-product attention, softmax(Q K^T / sqrt(d_k)) V (Vaswani et al.
// 2017, equation 1), shared by MultiHeadedAttention (four linears, the
// annotated Transformer) and Attention (one fused qkv linear, timm's ViT):
// the heads are split differently, the attention itself is this function.
//
// Shapes: q [B, h, T_q, d_k], k and v [B, h, T_k, d_k],
//         mask bool, true = may attend, broadcastable to [B, h, T_q, T_k];
//         result [B, h, T_q, d_k].
#include <torch/types.h>

namespace torchzoo::layers {

/// The arguments of dot_product_attention besides q, k and v.
struct DotProductAttentionArgs {
  /// Bool mask (true = may attend); undefined attends everywhere.
  torch::Tensor mask;
  /// Dropout probability on the attention weights (applied only when `training`).
  double dropout = 0.0;
  /// Whether the module is training: dropout applies only then.
  bool training = false;
  /// at::scaled_dot_product_attention; otherwise the math path written out. On the CPU, training
  /// with dropout takes the math path (with layers::fused_dropout) either way, and a single query
  /// position without gradients (a decoding step) takes detail::one_query_attention.
  bool fused = true;
  /// When set, the math path is taken and the attention weights [B, h, T_q, T_k]
  /// (before dropout, detached) are stored here.
  torch::Tensor* weights = nullptr;
};

/// softmax(q k^T / sqrt(d_k)) v for q [B, h, T_q, d_k], k and v [B, h, T_k, d_k] -> [B, h, T_q, d_k]
/// (Vaswani et al. 2017, equation 1), through the fused or the math path (see args).
///
/// The math path sets masked scores to -1e9 as the annotated Transformer does,
/// so a query whose keys are all masked attends uniformly; the fused path
/// returns NaN for such a row. Masks from data/masks.h never produce one.
torch::Tensor dot_product_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                    const DotProductAttentionArgs& args);

}  // namespace torchzoo::layers
