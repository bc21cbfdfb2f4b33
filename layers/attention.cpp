#include "torchzoo/layers/attention.h"

#include "torchzoo/common/check.h"
#include "torchzoo/layers/detail/linear.h"
#include "torchzoo/layers/dot_product_attention.h"

namespace torchzoo::layers {

AttentionImpl::AttentionImpl(AttentionOptions options) : options(std::move(options)) { reset(); }

void AttentionImpl::reset() {
  const auto& o = options;
  TORCHZOO_CHECK(o.dim() > 0 && o.num_heads() > 0, "Attention: dim and num_heads must be positive, got {} and {}",
                 o.dim(), o.num_heads());
  TORCHZOO_CHECK(o.dim() % o.num_heads() == 0, "Attention: dim ({}) must be divisible by num_heads ({})", o.dim(),
                 o.num_heads());
  for (const auto& [name, p] : {std::pair{"attn_drop", o.attn_drop()}, std::pair{"proj_drop", o.proj_drop()}}) {
    TORCHZOO_CHECK(p >= 0 && p < 1, "Attention: {} must be in [0, 1), got {}", name, p);
  }
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(o.dim(), 3 * o.dim()).bias(o.qkv_bias())));
  proj = register_module("proj", torch::nn::Linear(o.dim(), o.dim()));
  proj_drop = register_module("proj_drop", Dropout(o.proj_drop()));
}

void AttentionImpl::reset_parameters() {
  qkv->reset_parameters();
  proj->reset_parameters();
}

void AttentionImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::Attention(dim={}, num_heads={}, qkv_bias={}, attn_drop={}, fused={})",
                        options.dim(), options.num_heads(), options.qkv_bias(), options.attn_drop(), options.fused());
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
  const auto dim = options.dim();
  TORCHZOO_CHECK(x.dim() == 3 && x.size(2) == dim, "Attention: expected x of shape [B, N, {}], got {}", dim,
                 detail::shape_str(x.sizes()));
  const auto batch = x.size(0);
  const auto tokens = x.size(1);
  const auto heads = options.num_heads();
  auto qkv_heads = detail::linear(qkv, x)                             // [B, N, 3 dim]
                       .view({batch, tokens, 3, heads, dim / heads})  // [B, N, 3, h, d_k]
                       .permute({2, 0, 3, 1, 4});                     // [3, B, h, N, d_k]
  const auto q = qkv_heads[0], k = qkv_heads[1], v = qkv_heads[2];    // [B, h, N, d_k]

  DotProductAttentionArgs args;
  args.dropout = options.attn_drop();
  args.training = is_training();
  args.fused = options.fused();
  args.weights = options.keep_attention_weights() ? &attention_weights_ : nullptr;
  auto y = dot_product_attention(q, k, v, args)  // [B, h, N, d_k]
               .transpose(1, 2)                  // [B, N, h, d_k]
               .reshape({batch, tokens, dim});   // [B, N, dim]
  return proj_drop(detail::linear(proj, y));
}

}  // namespace torchzoo::layers
