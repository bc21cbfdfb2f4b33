#include "torchzoo/data/image_transforms.h"

#include <ATen/ops/constant_pad_nd.h>

#include "torchzoo/common/check.h"

namespace torchzoo::data {
namespace {

torch::Tensor per_channel(const std::vector<double>& values, int64_t channels, const char* name) {
  TORCHZOO_CHECK(values.size() == 1 || static_cast<int64_t>(values.size()) == channels,
                 "transform_images: {} needs 1 or {} values (one per channel), got {}", name, channels, values.size());
  auto t = torch::tensor(values, torch::kFloat);
  return (values.size() == 1 ? t.expand({channels}) : t).view({1, channels, 1, 1});
}

/// Each image shifted by a random offset in [-pad, pad] on both axes, zero-filled:
/// the same as padding by `pad` and cropping the original size at a random corner.
torch::Tensor random_crop(const torch::Tensor& x, int64_t pad, at::Generator& generator) {
  const auto batch = x.size(0), height = x.size(2), width = x.size(3);
  auto padded = at::constant_pad_nd(x, {pad, pad, pad, pad}, 0.0);  // [B, C, H + 2p, W + 2p]
  auto offsets = torch::randint(0, 2 * pad + 1, {batch, 2}, generator, torch::kInt64);
  const auto* o = offsets.data_ptr<int64_t>();
  auto out = torch::empty_like(x);
  for (int64_t i = 0; i < batch; ++i) {
    out[i].copy_(padded[i].narrow(1, o[2 * i], height).narrow(2, o[2 * i + 1], width));
  }
  return out;
}

}  // namespace

torch::Tensor transform_images(const torch::Tensor& images, const ImageTransformOptions& options,
                               std::optional<at::Generator> generator) {
  TORCHZOO_CHECK(images.dim() == 4 && images.scalar_type() == torch::kUInt8,
                 "transform_images: expected uint8 images [B, C, H, W], got {} {}", c10::toString(images.scalar_type()),
                 detail::shape_str(images.sizes()));
  TORCHZOO_CHECK(options.crop_padding() >= 0, "transform_images: crop_padding must be >= 0, got {}",
                 options.crop_padding());
  for (double s : options.std()) {
    TORCHZOO_CHECK(s > 0, "transform_images: std must be positive, got [{}]", fmt::join(options.std(), ", "));
  }
  const auto channels = images.size(1);
  auto mean = per_channel(options.mean(), channels, "mean");
  auto std = per_channel(options.std(), channels, "std");

  auto x = images.to(torch::kFloat).div_(255.0);  // [B, C, H, W] in [0, 1]
  if (generator) {
    if (options.crop_padding() > 0) x = random_crop(x, options.crop_padding(), *generator);
    if (options.hflip()) {
      auto flip = torch::rand({x.size(0), 1, 1, 1}, *generator) < 0.5;  // [B, 1, 1, 1]
      x = torch::where(flip, x.flip({3}), x);
    }
  }
  return x.sub_(mean).div_(std);
}

}  // namespace torchzoo::data
