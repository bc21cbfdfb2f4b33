#pragma once
// Batched image transforms for training and evaluation, as torchvision's
// RandomCrop(size, padding) + RandomHorizontalFlip + ToTensor + Normalize,
// then timm's RandomErasing (mode "pixel"), applied to a whole uint8 batch at once.
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/arg.h>
#include <torch/types.h>

namespace torchzoo::data {

/// Options of transform_images: normalisation and the training augmentations.
struct ImageTransformOptions {
  /// Per-channel mean and std of the [0, 1] pixels (one value is used for every channel).
  TORCH_ARG(std::vector<double>, mean) = {0.0};
  /// Per-channel standard deviation the normalised pixels are divided by.
  TORCH_ARG(std::vector<double>, std) = {1.0};
  /// Training: zero-pad each side by this many pixels, then crop back to the original size at a random offset.
  TORCH_ARG(int64_t, crop_padding) = 0;
  /// Training: flip left-right with probability 1/2.
  TORCH_ARG(bool, hflip) = false;
  /// Training: with this probability an image gets one rectangle of its normalised pixels replaced
  /// by standard normal noise, as timm's RandomErasing (mode "pixel") and DeiT's recipe (0.25): area
  /// 2 %-33 % of the image, aspect ratio log-uniform in [0.3, 3.3] (drawn again, up to 10 times,
  /// until the rectangle fits). 0: off.
  TORCH_ARG(double, random_erasing) = 0.0;
};

/// uint8 [B, C, H, W] -> float [B, C, H, W]: pixels / 255, normalised. With a
/// generator, the random crop and flip are applied first and random erasing last
/// (training); without one the images are only normalised (evaluation).
torch::Tensor transform_images(const torch::Tensor& images, const ImageTransformOptions& options,
                               std::optional<at::Generator> generator = std::nullopt);

}  // namespace torchzoo::data
