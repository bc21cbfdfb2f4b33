#include "torchzoo/data/png.h"

#include <png.h>

#include <cstring>
#include <filesystem>

#include "torchzoo/common/check.h"

namespace torchzoo::data {
namespace {

/// png_image owns libpng state until png_image_free.
struct PngImage {
  png_image image;
  PngImage() {
    std::memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
  }
  ~PngImage() { png_image_free(&image); }
};

}  // namespace

torch::Tensor read_png(const std::string& path, int64_t channels) {
  TORCHZOO_CHECK(channels == 1 || channels == 3, "read_png: channels must be 1 or 3, got {}", channels);
  TORCHZOO_CHECK(std::filesystem::is_regular_file(path), "PNG file '{}' does not exist", path);
  PngImage png;
  TORCHZOO_CHECK(png_image_begin_read_from_file(&png.image, path.c_str()) != 0, "PNG file '{}': {}", path,
                 png.image.message);
  png.image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  const auto height = static_cast<int64_t>(png.image.height);
  const auto width = static_cast<int64_t>(png.image.width);
  auto pixels = torch::empty({height, width, channels}, torch::kUInt8);
  const png_color black{0, 0, 0};
  TORCHZOO_CHECK(png_image_finish_read(&png.image, &black, pixels.data_ptr<uint8_t>(), 0, nullptr) != 0,
                 "PNG file '{}': {}", path, png.image.message);
  return pixels.permute({2, 0, 1}).contiguous();  // [C, H, W]
}

void write_png(const std::string& path, const torch::Tensor& image) {
  TORCHZOO_CHECK(image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3) && image.scalar_type() == torch::kUInt8,
                 "write_png: expected uint8 [1 or 3, H, W], got {} {}", c10::toString(image.scalar_type()),
                 detail::shape_str(image.sizes()));
  auto pixels = image.permute({1, 2, 0}).contiguous();  // [H, W, C]
  PngImage png;
  png.image.width = static_cast<png_uint_32>(image.size(2));
  png.image.height = static_cast<png_uint_32>(image.size(1));
  png.image.format = image.size(0) == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  TORCHZOO_CHECK(png_image_write_to_file(&png.image, path.c_str(), 0, pixels.data_ptr<uint8_t>(), 0, nullptr) != 0,
                 "write_png: '{}': {}", path, png.image.message);
}

}  // namespace torchzoo::data
