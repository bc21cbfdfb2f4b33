#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <fstream>
#include <set>

#include "../support/temp_dir.h"
#include "torchzoo/data/image_transforms.h"
#include "torchzoo/data/png.h"
#include "torchzoo/data/prefetcher.h"

using namespace torchzoo::data;

namespace {
at::Generator generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }
}  // namespace

TEST_CASE("transform_images normalises per channel", "[data][image_transforms]") {
  auto images = torch::full({2, 3, 4, 4}, 255, torch::kUInt8);
  auto x = transform_images(images, ImageTransformOptions().mean({0.5, 0.0, 1.0}).std({0.5, 1.0, 2.0}));
  CHECK(torch::allclose(x.select(1, 0), torch::full({2, 4, 4}, 1.0)));
  CHECK(torch::allclose(x.select(1, 1), torch::full({2, 4, 4}, 1.0)));
  CHECK(torch::allclose(x.select(1, 2), torch::full({2, 4, 4}, 0.0)));
  REQUIRE_THROWS_WITH(transform_images(images, ImageTransformOptions().mean({0.1, 0.2})),
                      Catch::Contains("mean needs 1 or 3 values (one per channel), got 2"));
  REQUIRE_THROWS_WITH(transform_images(images.to(torch::kFloat), ImageTransformOptions()),
                      Catch::Contains("expected uint8 images [B, C, H, W]"));
}

TEST_CASE("Random crop shifts each image within the padding and flips mirror it", "[data][image_transforms]") {
  // One bright pixel per image; after a crop with padding 2 it moves by at most 2 on each axis.
  auto images = torch::zeros({64, 1, 9, 9}, torch::kUInt8);
  images.select(2, 4).select(2, 4).fill_(255);
  auto crop = transform_images(images, ImageTransformOptions().crop_padding(2), generator(1));
  auto flat = crop.view({64, 81});
  std::set<int64_t> positions;
  for (int64_t i = 0; i < 64; ++i) {
    REQUIRE(flat[i].sum().item<double>() == Approx(1.0));  // never cropped away
    const auto index = flat[i].argmax().item<int64_t>();
    const auto row = index / 9, col = index % 9;
    CHECK(std::abs(row - 4) <= 2);
    CHECK(std::abs(col - 4) <= 2);
    positions.insert(index);
  }
  CHECK(positions.size() > 10);  // the offsets vary between images

  auto asym = torch::zeros({200, 1, 1, 3}, torch::kUInt8);
  asym.select(3, 0).fill_(255);  // bright left column
  auto flipped = transform_images(asym, ImageTransformOptions().hflip(true), generator(2));
  auto right = flipped.select(3, 2).view(-1);
  const auto flips = right.sum().item<double>();
  CHECK(flips > 70);
  CHECK(flips < 130);
  CHECK(torch::equal(flipped.sum({1, 2, 3}), torch::ones({200})));  // mirrored, not lost

  // Same generator seed, same batch.
  CHECK(torch::equal(transform_images(images, ImageTransformOptions().crop_padding(2).hflip(true), generator(3)),
                     transform_images(images, ImageTransformOptions().crop_padding(2).hflip(true), generator(3))));
}

TEST_CASE("Random erasing replaces one rectangle of some images with noise", "[data][image_transforms]") {
  const auto images = torch::full({400, 1, 28, 28}, 128, torch::kUInt8);
  const auto options = ImageTransformOptions().mean({0.5}).std({0.5}).random_erasing(0.25);
  const auto plain = transform_images(images, ImageTransformOptions().mean({0.5}).std({0.5}));
  const auto erased = transform_images(images, options, generator(4));
  const auto changed = erased.ne(plain).view({400, 28 * 28});  // [B, pixels]
  const auto per_image = changed.sum(1);
  const auto count = per_image.gt(0).sum().item<int64_t>();
  CHECK(count > 70);  // about a quarter of 400
  CHECK(count < 130);
  for (int64_t i = 0; i < 400; ++i) {
    const auto n = per_image[i].item<int64_t>();
    if (n == 0) continue;
    // One rectangle of 2 %-33 % of the image (rounding the sides can stray a little either way).
    CHECK(n >= 9);
    CHECK(n <= 300);
    const auto rows = changed[i].view({28, 28}).any(1).nonzero().view(-1);
    const auto cols = changed[i].view({28, 28}).any(0).nonzero().view(-1);
    const auto box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1);
    CHECK(box.item<int64_t>() == n);  // every changed pixel inside one box that they fill
  }
  CHECK(torch::equal(transform_images(images, options, generator(5)), transform_images(images, options, generator(5))));
  CHECK(torch::equal(transform_images(images, options), plain));  // evaluation: no erasing
  REQUIRE_THROWS_WITH(transform_images(images, ImageTransformOptions().random_erasing(1.5), generator(1)),
                      Catch::Contains("random_erasing must be a probability in [0, 1], got 1.5"));
}

TEST_CASE("Prefetcher hands out batches in order whatever the workers", "[data][prefetcher]") {
  const auto workers = GENERATE(0, 1, 3);
  INFO("workers " << workers);
  Prefetcher<int64_t> batches([](int64_t i) { return i * i; }, 50, workers, 4, /*first=*/5);
  for (int64_t i = 5; i < 50; ++i) REQUIRE(batches.next() == i * i);
  REQUIRE_THROWS_WITH(batches.next(), Catch::Contains("all 50 batches were taken"));
}

TEST_CASE("Prefetcher passes on what a worker threw", "[data][prefetcher][errors]") {
  Prefetcher<int> batches(
      [](int64_t i) -> int {
        if (i == 2) throw std::runtime_error("bad batch 2");
        return static_cast<int>(i);
      },
      4, 2, 2);
  CHECK(batches.next() == 0);
  CHECK(batches.next() == 1);
  REQUIRE_THROWS_WITH(batches.next(), "bad batch 2");
  CHECK(batches.next() == 3);
}

TEST_CASE("PNG files round-trip through libpng in grey and RGB", "[data][png]") {
  auto dir = torchzoo::testing::fresh_dir("png");
  auto grey = torch::randint(0, 256, {1, 5, 7}, torch::kUInt8);
  auto rgb = torch::randint(0, 256, {3, 5, 7}, torch::kUInt8);
  write_png((dir / "grey.png").string(), grey);
  write_png((dir / "rgb.png").string(), rgb);
  CHECK(torch::equal(read_png((dir / "grey.png").string(), 1), grey));
  CHECK(torch::equal(read_png((dir / "rgb.png").string(), 3), rgb));
  // RGB of a grey image repeats the channel.
  CHECK(torch::equal(read_png((dir / "grey.png").string(), 3), grey.expand({3, 5, 7})));
  std::ofstream((dir / "bad.png").string()) << "not a png";
  REQUIRE_THROWS_WITH(read_png((dir / "bad.png").string(), 1),
                      Catch::Contains("PNG file '" + (dir / "bad.png").string() + "'"));
}
