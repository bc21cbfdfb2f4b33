// libFuzzer target: train::read_safetensors on any bytes. Promised: the tensors the
// header describes, or an error naming the file. What it reads must write back and
// read again to the same names, dtypes, shapes and bytes.
#include <torch/torch.h>

#include "fuzz_support.h"
#include "torchzoo/train/export/safetensors.h"

using namespace torchzoo;

namespace {

/// The tensor's bytes, so that NaNs compare equal to themselves.
torch::Tensor raw_bytes(const torch::Tensor& t) { return t.contiguous().flatten().view(torch::kUInt8); }

void check_round_trip(const train::SafetensorsContents& contents) {
  const auto copy = fuzz::scratch_dir() + "/copy.safetensors";
  train::write_safetensors(copy, contents.tensors, contents.metadata);
  const auto again = train::read_safetensors(copy);
  if (again.metadata != contents.metadata) fuzz::finding("metadata changed in a write and read");
  if (again.tensors.size() != contents.tensors.size()) fuzz::finding("tensor count changed in a write and read");
  for (size_t i = 0; i < again.tensors.size(); ++i) {
    const auto& [name, tensor] = contents.tensors[i];
    const auto& [name_again, tensor_again] = again.tensors[i];
    if (name != name_again || tensor.scalar_type() != tensor_again.scalar_type() ||
        tensor.sizes() != tensor_again.sizes() || !torch::equal(raw_bytes(tensor), raw_bytes(tensor_again))) {
      fuzz::finding("tensor '" + name + "' changed in a write and read");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = fuzz::write_scratch("input.safetensors", fuzz::bytes(data, size));
  fuzz::expect_error_naming({path}, [&] {
    const auto contents = train::read_safetensors(path);
    check_round_trip(contents);
  });
  return 0;
}
