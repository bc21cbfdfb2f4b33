#include "torchzoo/models/vision_transformer.h"

#include <torch/nn/functional/upsampling.h>

#include <cmath>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/detail/linear.h"

namespace torchzoo::models {

GlobalPool global_pool_from_string(const std::string& name) {
  if (name == "token") return GlobalPool::kToken;
  if (name == "avg") return GlobalPool::kAvg;
  TORCH_CHECK(false, "unknown global pool '", name, "'; expected token or avg");
}

std::string to_string(GlobalPool pool) { return pool == GlobalPool::kToken ? "token" : "avg"; }

namespace {

/// The named shapes, in the order preset_names() lists them.
const std::vector<std::pair<std::string, VisionTransformerOptions>>& presets() {
  static const std::vector<std::pair<std::string, VisionTransformerOptions>> table = {
      {"vit_tiny", VisionTransformerOptions().embed_dim(192).depth(12).num_heads(3)},
      {"vit_small", VisionTransformerOptions().embed_dim(384).depth(12).num_heads(6)},
      {"vit_mini", VisionTransformerOptions().embed_dim(128).depth(6).num_heads(4).mlp_ratio(2.0)},
  };
  return table;
}

}  // namespace

VisionTransformerOptions VisionTransformerOptions::preset(const std::string& name) {
  for (const auto& [preset_name, options] : presets()) {
    if (preset_name == name) return options;
  }
  TORCHZOO_CHECK(false, "unknown ViT preset '{}'; known: {}", name, fmt::join(preset_names(), ", "));
}

std::vector<std::string> VisionTransformerOptions::preset_names() {
  std::vector<std::string> names;
  for (const auto& entry : presets()) names.push_back(entry.first);
  return names;
}

VisionTransformerImpl::VisionTransformerImpl(VisionTransformerOptions options) : options(std::move(options)) {
  reset();
}

void VisionTransformerImpl::reset() {
  const auto& o = options;
  TORCHZOO_CHECK(o.embed_dim() > 0 && o.depth() > 0 && o.num_heads() > 0 && o.num_classes() > 0,
                 "VisionTransformer: embed_dim, depth, num_heads and num_classes must be positive, got {}, {}, {} "
                 "and {}",
                 o.embed_dim(), o.depth(), o.num_heads(), o.num_classes());
  for (const auto& [name, p] : {std::pair{"drop_rate", o.drop_rate()}, std::pair{"attn_drop_rate", o.attn_drop_rate()},
                                std::pair{"drop_path_rate", o.drop_path_rate()}}) {
    TORCHZOO_CHECK(p >= 0 && p < 1, "VisionTransformer: {} must be in [0, 1), got {}", name, p);
  }
  const auto dim = o.embed_dim();
  patch_embed = register_module(
      "patch_embed", layers::PatchEmbed(layers::PatchEmbedOptions(o.img_size(), o.patch_size(), o.in_chans(), dim)));
  cls_token = register_parameter("cls_token", torch::zeros({1, 1, dim}));
  pos_embed = register_parameter("pos_embed", torch::zeros({1, 1 + o.num_patches(), dim}));
  pos_drop = register_module("pos_drop", layers::Dropout(o.drop_rate()));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.depth(); ++i) {
    // Stochastic depth rises linearly over the blocks: 0 for the first, drop_path_rate for the last.
    const double drop_path =
        o.depth() > 1 ? o.drop_path_rate() * static_cast<double>(i) / static_cast<double>(o.depth() - 1) : 0.0;
    blocks->push_back(layers::VitBlock(layers::VitBlockOptions(dim, o.num_heads())
                                           .mlp_ratio(o.mlp_ratio())
                                           .qkv_bias(o.qkv_bias())
                                           .proj_drop(o.drop_rate())
                                           .attn_drop(o.attn_drop_rate())
                                           .init_values(o.init_values())
                                           .drop_path(drop_path)
                                           .fused_attention(o.fused_attention())));
  }
  const auto norm_options = torch::nn::LayerNormOptions({dim}).eps(1e-6);
  if (o.global_pool() == GlobalPool::kToken) {
    norm = register_module("norm", torch::nn::LayerNorm(norm_options));
  } else {
    fc_norm = register_module("fc_norm", torch::nn::LayerNorm(norm_options));
  }
  head_drop = register_module("head_drop", layers::Dropout(o.drop_rate()));
  head = register_module("head", torch::nn::Linear(dim, o.num_classes()));
  reset_parameters();
}

void VisionTransformerImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  // timm draws these from trunc_normal_(std=0.02) with cut-offs at +-2, which
  // at std 0.02 truncates nothing in practice: a plain normal is the same law.
  pos_embed.normal_(0.0, 0.02);
  cls_token.normal_(0.0, 1e-6);
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::Linear>()) {
      linear->weight.normal_(0.0, 0.02);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* layer_norm = module->as<torch::nn::LayerNorm>()) {
      layer_norm->weight.fill_(1.0);
      layer_norm->bias.zero_();
    } else if (auto* layer_scale = module->as<layers::LayerScale>()) {
      layer_scale->reset_parameters();
    }
  }
}

void VisionTransformerImpl::pretty_print(std::ostream& stream) const {
  const auto& o = options;
  stream << fmt::format(
      "torchzoo::models::VisionTransformer(img_size={}, patch_size={}, in_chans={}, num_classes={}, embed_dim={}, "
      "depth={}, num_heads={}, global_pool={})",
      o.img_size(), o.patch_size(), o.in_chans(), o.num_classes(), o.embed_dim(), o.depth(), o.num_heads(),
      to_string(o.global_pool()));
}

torch::Tensor VisionTransformerImpl::forward_features(const torch::Tensor& images) {
  auto x = patch_embed(images);                                           // [B, N, D]
  x = torch::cat({cls_token.expand({x.size(0), -1, -1}), x}, /*dim=*/1);  // [B, 1 + N, D]
  x = pos_drop(x + pos_embed);
  for (const auto& block : *blocks) {
    x = block->as<layers::VitBlock>()->forward(x);
  }
  return norm ? norm(x) : x;  // [B, 1 + N, D]
}

torch::Tensor VisionTransformerImpl::forward_head(const torch::Tensor& tokens) {
  auto pooled = options.global_pool() == GlobalPool::kToken
                    ? tokens.select(1, 0)                   // [B, D]: the class token
                    : fc_norm(tokens.slice(1, 1).mean(1));  // [B, D]: mean of the patch tokens
  return detail::linear(head, head_drop(pooled));           // [B, num_classes]
}

torch::Tensor VisionTransformerImpl::forward(const torch::Tensor& images) {
  return forward_head(forward_features(images));
}

torch::Tensor resample_abs_pos_embed(const torch::Tensor& pos_embed, std::array<int64_t, 2> new_grid,
                                     std::array<int64_t, 2> old_grid, int64_t num_prefix_tokens) {
  const auto [old_h, old_w] = old_grid;
  const auto [new_h, new_w] = new_grid;
  TORCHZOO_CHECK(
      pos_embed.dim() == 3 && pos_embed.size(0) == 1 && pos_embed.size(1) == num_prefix_tokens + old_h * old_w,
      "resample_abs_pos_embed: expected pos_embed of shape [1, {} + {}x{}, D], got {}", num_prefix_tokens, old_h, old_w,
      detail::shape_str(pos_embed.sizes()));
  TORCHZOO_CHECK(new_h > 0 && new_w > 0, "resample_abs_pos_embed: the new grid must be positive, got {}x{}", new_h,
                 new_w);
  if (new_h == old_h && new_w == old_w) return pos_embed;
  const auto dim = pos_embed.size(2);
  auto prefix = pos_embed.slice(1, 0, num_prefix_tokens);  // [1, prefix, D]
  auto grid = pos_embed
                  .slice(1, num_prefix_tokens)  // [1, gh*gw, D]
                  .reshape({1, old_h, old_w, dim})
                  .permute({0, 3, 1, 2});  // [1, D, gh, gw]
  namespace F = torch::nn::functional;
  grid = F::interpolate(grid.to(torch::kFloat), F::InterpolateFuncOptions()
                                                    .size(std::vector<int64_t>{new_h, new_w})
                                                    .mode(torch::kBilinear)
                                                    .align_corners(false))
             .to(pos_embed.scalar_type());                             // [1, D, new_h, new_w]
  grid = grid.permute({0, 2, 3, 1}).reshape({1, new_h * new_w, dim});  // [1, new_h*new_w, D]
  return torch::cat({prefix, grid}, 1);
}

torch::Tensor fit_pos_embed(const VisionTransformerImpl& model, const torch::Tensor& pos_embed) {
  if (pos_embed.sizes() == model.pos_embed.sizes()) return pos_embed;
  const auto dim = model.pos_embed.size(2);
  const auto old_patches = pos_embed.dim() == 3 ? pos_embed.size(1) - 1 : 0;
  const auto old_side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(old_patches))));
  TORCHZOO_CHECK(pos_embed.dim() == 3 && pos_embed.size(0) == 1 && old_patches > 0 &&
                     old_side * old_side == old_patches && pos_embed.size(2) == dim,
                 "pos_embed {} is not [1, 1 + a square grid, {}]", detail::shape_str(pos_embed.sizes()), dim);
  const auto grid = model.options.grid_size();
  return resample_abs_pos_embed(pos_embed, {grid, grid}, {old_side, old_side});
}

void load_vit_state(VisionTransformerImpl& model, const std::map<std::string, torch::Tensor>& state) {
  torch::NoGradGuard no_grad;
  auto params = model.named_parameters();
  for (const auto& [name, value] : state) {
    auto* target = params.find(name);
    TORCHZOO_CHECK(target != nullptr, "load_vit_state: the model has no parameter '{}'", name);
    const auto source = name == "pos_embed" ? fit_pos_embed(model, value) : value;
    TORCHZOO_CHECK(source.sizes() == target->sizes(), "load_vit_state: '{}' has shape {} in the state, {} in the model",
                   name, detail::shape_str(source.sizes()), detail::shape_str(target->sizes()));
    target->copy_(source);
  }
  for (const auto& item : params) {
    TORCHZOO_CHECK(state.count(item.key()) == 1, "load_vit_state: the state has no '{}'", item.key());
  }
}

}  // namespace torchzoo::models
