#pragma once
// PNG images through libpng (Debian's libpng-dev), for `torchzoo predict`.
#include <string>

#include <torch/types.h>

namespace torchzoo::data {

/// The image as uint8 [channels, H, W] with channels 1 (grey) or 3 (RGB):
/// any PNG (palette, 16-bit, alpha) is converted by libpng to that format,
/// alpha composited on black. Errors name the file and give libpng's reason.
torch::Tensor read_png(const std::string& path, int64_t channels);

/// Writes uint8 [1 or 3, H, W] as an 8-bit grey or RGB PNG (for tests and examples).
void write_png(const std::string& path, const torch::Tensor& image);

}  // namespace torchzoo::data
