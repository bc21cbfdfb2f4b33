#pragma once
// IDX files, the format of MNIST and Fashion-MNIST (LeCun et al.,
// http://yann.lecun.com/exdb/mnist/): a big-endian header -- two zero bytes,
// a type code (0x08 = unsigned byte), the number of dimensions -- then one
// 32-bit big-endian size per dimension, then the data, row-major.
// Files may be gzip-compressed (.gz) or plain; zlib reads both.
#include <string>

#include <torch/types.h>

namespace torchzoo::data {

/// The whole file as a uint8 tensor of the shape its header gives
/// (e.g. [60000, 28, 28] for images, [60000] for labels). `expected_dims`
/// (if > 0) must equal the header's number of dimensions. Errors name the file
/// and say what was expected: bad magic, unsupported type, a truncated file,
/// bytes after the data.
torch::Tensor read_idx(const std::string& path, int64_t expected_dims = 0);

/// Writes `data` (uint8, any shape) as an IDX file, gzip-compressed when the
/// name ends in .gz. For tests and for exporting subsets.
void write_idx(const std::string& path, const torch::Tensor& data);

}  // namespace torchzoo::data
