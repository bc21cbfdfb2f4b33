#include "torchzoo/data/image_transforms.h"

#include <ATen/ops/constant_pad_nd.h>

#include <algorithm>
#include <cmath>

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

/// timm's RandomErasing, mode "pixel", on normalised images x [B, C, H, W], in place.
void random_erase(torch::Tensor& x, double probability, at::Generator& generator) {
  const auto batch = x.size(0), height = x.size(2), width = x.size(3);
  const double area = static_cast<double>(height * width);
  const double log_min_ratio = std::log(0.3), log_max_ratio = std::log(1.0 / 0.3);
  // One draw per image for whether it is erased, then up to 10 tries for a rectangle that fits.
  const auto erase = torch::rand({batch}, generator, torch::kDouble);
  const auto shapes = torch::rand({batch, 10, 4}, generator, torch::kDouble);  // area, ratio, top, left
  const auto* e = erase.data_ptr<double>();
  const auto* u = shapes.data_ptr<double>();
  for (int64_t i = 0; i < batch; ++i) {
    if (e[i] >= probability) continue;
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double* draw = u + (i * 10 + attempt) * 4;
      const double target = area * (0.02 + draw[0] * (1.0 / 3.0 - 0.02));
      const double ratio = std::exp(log_min_ratio + draw[1] * (log_max_ratio - log_min_ratio));
      const auto h = static_cast<int64_t>(std::lround(std::sqrt(target * ratio)));
      const auto w = static_cast<int64_t>(std::lround(std::sqrt(target / ratio)));
      if (h < 1 || w < 1 || h >= height || w >= width) continue;
      const auto top = static_cast<int64_t>(draw[2] * static_cast<double>(height - h + 1));
      const auto left = static_cast<int64_t>(draw[3] * static_cast<double>(width - w + 1));
      auto patch = x[i].narrow(1, std::min(top, height - h), h).narrow(2, std::min(left, width - w), w);
      patch.copy_(torch::randn(patch.sizes(), generator, x.options()));
      break;
    }
  }
}

}  // namespace

torch::Tensor transform_images(const torch::Tensor& images, const ImageTransformOptions& options,
                               std::optional<at::Generator> generator) {
  TORCHZOO_CHECK(images.dim() == 4 && images.scalar_type() == torch::kUInt8,
                 "transform_images: expected uint8 images [B, C, H, W], got {} {}", c10::toString(images.scalar_type()),
                 detail::shape_str(images.sizes()));
  TORCHZOO_CHECK(options.crop_padding() >= 0, "transform_images: crop_padding must be >= 0, got {}",
                 options.crop_padding());
  TORCHZOO_CHECK(options.random_erasing() >= 0.0 && options.random_erasing() <= 1.0,
                 "transform_images: random_erasing must be a probability in [0, 1], got {}", options.random_erasing());
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
  x.sub_(mean).div_(std);
  if (generator && options.random_erasing() > 0.0) random_erase(x, options.random_erasing(), *generator);
  return x;
}

}  // namespace torchzoo::data
