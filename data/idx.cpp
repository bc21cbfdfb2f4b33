#include "torchzoo/data/idx.h"

#include <zlib.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <memory>

#include "torchzoo/common/check.h"

namespace torchzoo::data {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Reads up to `size` bytes; returns how many were read (fewer at the end of the file).
int64_t read_some(gzFile file, void* out, int64_t size, const std::string& path) {
  int64_t done = 0;
  auto* bytes = static_cast<char*>(out);
  while (done < size) {
    const auto chunk = static_cast<unsigned>(std::min<int64_t>(size - done, 1 << 30));
    const int got = gzread(file, bytes + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      TORCHZOO_CHECK(false, "IDX file '{}': read error: {}", path, message);
    }
    if (got == 0) break;
    done += got;
  }
  return done;
}

uint32_t big_endian(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

}  // namespace

torch::Tensor read_idx(const std::string& path, int64_t expected_dims) {
  TORCHZOO_CHECK(std::filesystem::is_regular_file(path), "IDX file '{}' does not exist", path);
  GzFile file(gzopen(path.c_str(), "rb"));
  TORCHZOO_CHECK(file != nullptr, "IDX file '{}': cannot open it", path);

  std::array<uint8_t, 4> magic{};
  TORCHZOO_CHECK(read_some(file.get(), magic.data(), 4, path) == 4, "IDX file '{}': shorter than its 4-byte header",
                 path);
  TORCHZOO_CHECK(magic[0] == 0 && magic[1] == 0,
                 "IDX file '{}': bad magic number 0x{:02x}{:02x}{:02x}{:02x}; an IDX file starts with two zero bytes "
                 "(e.g. 0x00000803 for images, 0x00000801 for labels)",
                 path, magic[0], magic[1], magic[2], magic[3]);
  TORCHZOO_CHECK(magic[2] == kUnsignedByte,
                 "IDX file '{}': data type 0x{:02x} is not supported; expected 0x08 (unsigned byte)", path, magic[2]);
  const int64_t dims = magic[3];
  TORCHZOO_CHECK(dims >= 1, "IDX file '{}': the header gives 0 dimensions", path);
  TORCHZOO_CHECK(expected_dims <= 0 || dims == expected_dims,
                 "IDX file '{}': expected {} dimensions, the header gives {}", path, expected_dims, dims);

  std::vector<uint8_t> size_bytes(static_cast<size_t>(4 * dims));
  TORCHZOO_CHECK(read_some(file.get(), size_bytes.data(), 4 * dims, path) == 4 * dims,
                 "IDX file '{}': truncated in the header ({} dimension sizes expected)", path, dims);
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < dims; ++d) shape.push_back(big_endian(&size_bytes[static_cast<size_t>(4 * d)]));
  // Checked before anything is allocated: the product without overflow, then against what
  // the file can hold -- its size, or for gzip (deflate packs at most 1032:1) 1032 times it.
  // Sizes after a zero still make strides, so their product is bounded too.
  const auto file_size = static_cast<int64_t>(std::filesystem::file_size(path));
  const int64_t most = (file_size + 1) * 1032;
  int64_t count = 1, nonzero = 1;
  for (auto size : shape) {
    if (size == 0) {
      count = 0;
      continue;
    }
    TORCHZOO_CHECK(nonzero <= (int64_t{1} << 40) / size, "IDX file '{}': implausible sizes [{}]", path,
                   fmt::join(shape, ", "));
    nonzero *= size;
    count *= size;
    TORCHZOO_CHECK(count <= most, "IDX file '{}': truncated: the header [{}] needs more data than a file of {} bytes "
                   "holds", path, fmt::join(shape, ", "), file_size);
  }

  auto data = torch::empty(shape, torch::kUInt8);
  const int64_t got = read_some(file.get(), data.data_ptr<uint8_t>(), count, path);
  TORCHZOO_CHECK(got == count, "IDX file '{}': truncated: the header [{}] needs {} data bytes, the file has {}", path,
                 fmt::join(shape, ", "), count, got);
  uint8_t extra = 0;
  TORCHZOO_CHECK(read_some(file.get(), &extra, 1, path) == 0,
                 "IDX file '{}': more bytes than the header [{}] accounts for ({} data bytes)", path,
                 fmt::join(shape, ", "), count);
  return data;
}

void write_idx(const std::string& path, const torch::Tensor& data) {
  TORCHZOO_CHECK(data.scalar_type() == torch::kUInt8 && data.dim() >= 1 && data.dim() < 256,
                 "write_idx: expected a uint8 tensor with 1 to 255 dimensions, got {} of shape {}",
                 c10::toString(data.scalar_type()), detail::shape_str(data.sizes()));
  auto contiguous = data.contiguous();
  std::vector<uint8_t> header = {0, 0, kUnsignedByte, static_cast<uint8_t>(data.dim())};
  for (auto size : data.sizes()) {
    const auto s = static_cast<uint32_t>(size);
    header.insert(header.end(), {static_cast<uint8_t>(s >> 24), static_cast<uint8_t>(s >> 16),
                                 static_cast<uint8_t>(s >> 8), static_cast<uint8_t>(s)});
  }
  GzFile file(gzopen(path.c_str(), ends_with(path, ".gz") ? "wb" : "wbT"));
  TORCHZOO_CHECK(file != nullptr, "write_idx: cannot open '{}' for writing", path);
  const auto write = [&](const void* bytes, size_t size) {
    TORCHZOO_CHECK(gzwrite(file.get(), bytes, static_cast<unsigned>(size)) == static_cast<int>(size),
                   "write_idx: writing '{}' failed", path);
  };
  write(header.data(), header.size());
  write(contiguous.data_ptr<uint8_t>(), static_cast<size_t>(contiguous.numel()));
}

}  // namespace torchzoo::data
