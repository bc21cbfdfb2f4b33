#include "torchzoo/layers/vit_block.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

VitBlockImpl::VitBlockImpl(VitBlockOptions options) : options(std::move(options)) { reset(); }

void VitBlockImpl::reset() {
  const auto& o = options;
  TORCHZOO_CHECK(o.mlp_ratio() > 0 && o.mlp_hidden() > 0,
                 "VitBlock: mlp_ratio must give a positive hidden width, got {}", o.mlp_ratio());
  const auto norm_options = torch::nn::LayerNormOptions({o.dim()}).eps(o.layer_norm_eps());
  norm1 = register_module("norm1", torch::nn::LayerNorm(norm_options));
  attn = register_module("attn", Attention(AttentionOptions(o.dim(), o.num_heads())
                                               .qkv_bias(o.qkv_bias())
                                               .attn_drop(o.attn_drop())
                                               .proj_drop(o.proj_drop())
                                               .fused(o.fused_attention())));
  if (o.init_values()) ls1 = register_module("ls1", LayerScale(LayerScaleOptions(o.dim(), *o.init_values())));
  drop_path1 = register_module("drop_path1", DropPath(o.drop_path()));
  norm2 = register_module("norm2", torch::nn::LayerNorm(norm_options));
  mlp = register_module("mlp", Mlp(MlpOptions(o.dim(), o.mlp_hidden()).drop(o.proj_drop())));
  if (o.init_values()) ls2 = register_module("ls2", LayerScale(LayerScaleOptions(o.dim(), *o.init_values())));
  drop_path2 = register_module("drop_path2", DropPath(o.drop_path()));
}

void VitBlockImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::VitBlock(dim={}, num_heads={}, mlp_ratio={}, drop_path={})", options.dim(),
                        options.num_heads(), options.mlp_ratio(), options.drop_path());
}

torch::Tensor VitBlockImpl::forward(const torch::Tensor& x) {
  auto attn_branch = attn(norm1(x));  // [B, N, dim]
  if (ls1) attn_branch = ls1(attn_branch);
  auto h = x + drop_path1(attn_branch);
  auto mlp_branch = mlp(norm2(h));  // [B, N, dim]
  if (ls2) mlp_branch = ls2(mlp_branch);
  return h + drop_path2(mlp_branch);
}

}  // namespace torchzoo::layers
