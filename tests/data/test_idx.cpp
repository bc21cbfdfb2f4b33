#include <torch/torch.h>
#include <zlib.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <vector>

#include "../support/temp_dir.h"
#include "torchzoo/data/idx.h"
#include "torchzoo/data/image_dataset.h"

using namespace torchzoo::data;
using torchzoo::testing::fresh_dir;

namespace {

using Bytes = std::vector<uint8_t>;

/// An IDX header: two zero bytes, the type, the dimension count, big-endian sizes.
Bytes header(uint8_t type, std::vector<uint32_t> sizes) {
  Bytes bytes = {0, 0, type, static_cast<uint8_t>(sizes.size())};
  for (auto s : sizes) bytes.insert(bytes.end(), {uint8_t(s >> 24), uint8_t(s >> 16), uint8_t(s >> 8), uint8_t(s)});
  return bytes;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void write_plain(const std::string& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  gzclose(file);
}

}  // namespace

TEST_CASE("read_idx reads plain and gzipped files written by hand", "[data][idx]") {
  auto dir = fresh_dir("idx_good");
  const Bytes pixels = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const auto bytes = concat(header(0x08, {2, 2, 3}), pixels);
  write_plain((dir / "images-idx3-ubyte").string(), bytes);
  write_gz((dir / "images-idx3-ubyte.gz").string(), bytes);
  for (const auto* name : {"images-idx3-ubyte", "images-idx3-ubyte.gz"}) {
    INFO(name);
    auto t = read_idx((dir / name).string(), 3);
    REQUIRE(t.sizes() == torch::IntArrayRef({2, 2, 3}));
    CHECK(t.scalar_type() == torch::kUInt8);
    CHECK(torch::equal(t, torch::arange(1, 13, torch::kUInt8).view({2, 2, 3})));
  }
}

TEST_CASE("write_idx and read_idx round-trip", "[data][idx]") {
  auto dir = fresh_dir("idx_roundtrip");
  auto data = torch::randint(0, 256, {5, 4, 3}, torch::kUInt8);
  for (const auto* name : {"x.idx", "x.idx.gz"}) {
    write_idx((dir / name).string(), data);
    CHECK(torch::equal(read_idx((dir / name).string()), data));
  }
}

TEST_CASE("read_idx names the file and the problem", "[data][idx][errors]") {
  auto dir = fresh_dir("idx_bad");
  const auto path = [&](const std::string& name) { return (dir / name).string(); };
  const Bytes six = {1, 2, 3, 4, 5, 6};

  write_gz(path("magic.gz"), concat(Bytes{0x1f, 0x8b, 0x08, 0x03, 0, 0, 0, 6}, six));
  REQUIRE_THROWS_WITH(read_idx(path("magic.gz")),
                      Catch::Contains("IDX file '" + path("magic.gz") + "': bad magic number 0x1f8b0803"));

  write_gz(path("type.gz"), concat(header(0x0D, {6}), six));
  REQUIRE_THROWS_WITH(read_idx(path("type.gz")),
                      Catch::Contains("data type 0x0d is not supported; expected 0x08 (unsigned byte)"));

  write_gz(path("dims.gz"), concat(header(0x08, {6}), six));
  REQUIRE_THROWS_WITH(read_idx(path("dims.gz"), 3), Catch::Contains("expected 3 dimensions, the header gives 1"));

  write_gz(path("truncated.gz"), concat(header(0x08, {2, 2, 2}), six));
  REQUIRE_THROWS_WITH(read_idx(path("truncated.gz")), Catch::Contains("'" + path("truncated.gz") +
                                                                      "': truncated: the header [2, 2, 2] needs 8 data "
                                                                      "bytes, the file has 6"));

  write_plain(path("short_header"), Bytes{0, 0, 8, 3, 0, 0});
  REQUIRE_THROWS_WITH(read_idx(path("short_header")), Catch::Contains("truncated in the header"));

  write_gz(path("extra.gz"), concat(header(0x08, {5}), six));
  REQUIRE_THROWS_WITH(read_idx(path("extra.gz")), Catch::Contains("more bytes than the header [5] accounts for"));

  // A gzip stream cut in the middle: zlib's own message, still naming the file.
  const auto good = concat(header(0x08, {4000}), Bytes(4000, 7));
  write_gz(path("cut.gz"), good);
  std::ifstream in(path("cut.gz"), std::ios::binary);
  Bytes compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  compressed.resize(compressed.size() / 2);
  write_plain(path("cut.gz"), compressed);
  REQUIRE_THROWS_WITH(read_idx(path("cut.gz")), Catch::Contains("IDX file '" + path("cut.gz") + "'"));

  // Sizes are checked before anything is allocated (found by fuzz/idx_fuzzer.cpp): a product that
  // overflows int64, more than the file can hold, or sizes after a zero that overflow the strides.
  write_plain(path("overflow"), header(0x08, {0xEDEDEDED, 0xEDEDEDED, 0xEDEDEDED}));
  REQUIRE_THROWS_WITH(read_idx(path("overflow")),
                      Catch::Contains("'" + path("overflow") + "': truncated: the header [3991793133, 3991793133, "
                                      "3991793133] needs more data than a file of 16 bytes holds"));
  write_plain(path("zero_then_huge"), header(0x08, {0, 0xEDEDEDED, 0xEDEDEDED}));
  REQUIRE_THROWS_WITH(read_idx(path("zero_then_huge")),
                      Catch::Contains("'" + path("zero_then_huge") +
                                      "': implausible sizes [0, 3991793133, 3991793133]"));
  write_plain(path("empty_set"), header(0x08, {0, 28, 28}));
  CHECK(read_idx(path("empty_set")).sizes() == torch::IntArrayRef({0, 28, 28}));

  REQUIRE_THROWS_WITH(read_idx(path("missing.gz")),
                      Catch::Contains("IDX file '" + path("missing.gz") + "' does not exist"));
}

TEST_CASE("load_mnist_format checks that images and labels agree", "[data][idx][errors]") {
  auto dir = fresh_dir("mnist_format");
  const auto path = [&](const std::string& name) { return (dir / name).string(); };
  write_idx(path("train-images-idx3-ubyte.gz"), torch::zeros({3, 4, 4}, torch::kUInt8));
  write_idx(path("train-labels-idx1-ubyte.gz"), torch::tensor({0, 1, 2}, torch::kUInt8));
  auto set = load_mnist_format(dir.string(), "train", {"a", "b", "c"});
  CHECK(set.images.sizes() == torch::IntArrayRef({3, 1, 4, 4}));
  CHECK(set.labels.scalar_type() == torch::kLong);
  CHECK(set.size() == 3);

  REQUIRE_THROWS_WITH(load_mnist_format(dir.string(), "train", {"a", "b"}),
                      Catch::Contains("has label 2, but there are 2 classes"));
  write_idx(path("train-labels-idx1-ubyte.gz"), torch::tensor({0, 1}, torch::kUInt8));
  REQUIRE_THROWS_WITH(load_mnist_format(dir.string(), "train", {"a", "b", "c"}),
                      Catch::Contains("has 3 images but '" + path("train-labels-idx1-ubyte.gz") + "' has 2 labels"));
  REQUIRE_THROWS_WITH(load_mnist_format(dir.string(), "test", {"a", "b", "c"}),
                      Catch::Contains("neither '" + path("t10k-images-idx3-ubyte") + ".gz' nor"));
}

TEST_CASE("Fashion-MNIST from the Debian package has the published sizes", "[data][idx]") {
  auto train = load_mnist_format(kFashionMnistRoot, "train", fashion_mnist_classes());
  auto test = load_mnist_format(kFashionMnistRoot, "test", fashion_mnist_classes());
  CHECK(train.images.sizes() == torch::IntArrayRef({60000, 1, 28, 28}));
  CHECK(test.images.sizes() == torch::IntArrayRef({10000, 1, 28, 28}));
  // Balanced classes: 6000 training and 1000 test images each.
  CHECK(torch::equal(torch::bincount(train.labels), torch::full({10}, 6000, torch::kLong)));
  CHECK(torch::equal(torch::bincount(test.labels), torch::full({10}, 1000, torch::kLong)));
}
