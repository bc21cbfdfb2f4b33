// libFuzzer target: data::read_png (libpng) on any bytes, as grey and as RGB.
// Promised: uint8 [channels, H, W], or an error naming the file.
#include <torch/torch.h>

#include "fuzz_support.h"
#include "torchzoo/data/png.h"

using namespace torchzoo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = fuzz::write_scratch("input.png", fuzz::bytes(data, size));
  for (int64_t channels : {1, 3}) {
    fuzz::expect_error_naming({path}, [&] {
      const auto image = data::read_png(path, channels);
      if (image.scalar_type() != torch::kUInt8 || image.dim() != 3 || image.size(0) != channels) {
        fuzz::finding("read_png returned " + std::string(image.toString()) + " of shape " +
                      c10::str(image.sizes()) + " for " + std::to_string(channels) + " channels");
      }
    });
  }
  return 0;
}
