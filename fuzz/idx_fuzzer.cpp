// libFuzzer target: data::read_idx (MNIST's IDX files, plain or gzip) on any bytes.
// Promised: the tensor its header describes, or an error naming the file; never an
// allocation the file's bytes cannot fill.
#include <torch/torch.h>

#include "fuzz_support.h"
#include "torchzoo/data/idx.h"

using namespace torchzoo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = fuzz::write_scratch("input.idx", fuzz::bytes(data, size));
  fuzz::expect_error_naming({path}, [&] {
    const auto images = data::read_idx(path);
    if (images.scalar_type() != torch::kUInt8) fuzz::finding("read_idx returned a tensor that is not uint8");
    // Every element came from the file: plain, or gzip (which packs at most ~1032:1).
    if (images.numel() > static_cast<int64_t>(size) * 1100 + 64) fuzz::finding("more elements than the file holds");
  });
  return 0;
}
