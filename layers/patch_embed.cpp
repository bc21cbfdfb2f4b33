#include "torchzoo/layers/patch_embed.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

PatchEmbedImpl::PatchEmbedImpl(PatchEmbedOptions options) : options(std::move(options)) { reset(); }

void PatchEmbedImpl::reset() {
  const auto& o = options;
  TORCHZOO_CHECK(o.img_size() > 0 && o.patch_size() > 0 && o.in_chans() > 0 && o.embed_dim() > 0,
                 "PatchEmbed: img_size, patch_size, in_chans and embed_dim must be positive, got {}, {}, {} and {}",
                 o.img_size(), o.patch_size(), o.in_chans(), o.embed_dim());
  TORCHZOO_CHECK(o.img_size() % o.patch_size() == 0, "PatchEmbed: img_size ({}) must be a multiple of patch_size ({})",
                 o.img_size(), o.patch_size());
  proj = register_module(
      "proj",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(o.in_chans(), o.embed_dim(), o.patch_size()).stride(o.patch_size()).bias(o.bias())));
}

void PatchEmbedImpl::reset_parameters() { proj->reset_parameters(); }

void PatchEmbedImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::PatchEmbed(img_size={}, patch_size={}, in_chans={}, embed_dim={})",
                        options.img_size(), options.patch_size(), options.in_chans(), options.embed_dim());
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& x) {
  const auto& o = options;
  TORCHZOO_CHECK(x.dim() == 4 && x.size(1) == o.in_chans() && x.size(2) == o.img_size() && x.size(3) == o.img_size(),
                 "PatchEmbed: expected images of shape [B, {}, {}, {}], got {}", o.in_chans(), o.img_size(),
                 o.img_size(), detail::shape_str(x.sizes()));
  return proj(x)         // [B, D, H/p, W/p]
      .flatten(2)        // [B, D, N]
      .transpose(1, 2);  // [B, N, D]
}

}  // namespace torchzoo::layers
