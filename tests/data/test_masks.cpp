#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/data/masks.h"
#include "../support/golden.h"

using namespace torchzoo::data;
using namespace torchzoo::testing;

TEST_CASE("subsequent_mask matches the reference", "[data][masks][golden]") {
  const auto golden = load_golden("subsequent_mask");
  const auto size = golden_value(golden, "input.size").item<int64_t>();
  check_close(subsequent_mask(size), golden_value(golden, "output"), 0.0, "subsequent_mask");
}

TEST_CASE("subsequent_mask lets position i see 0..i", "[data][masks]") {
  auto mask = subsequent_mask(3);
  REQUIRE(mask.sizes() == torch::IntArrayRef({1, 3, 3}));
  REQUIRE(mask.scalar_type() == torch::kBool);
  auto expected = torch::tensor({true, false, false, true, true, false, true, true, true}).view({1, 3, 3});
  CHECK(torch::equal(mask, expected));
  REQUIRE_THROWS_WITH(subsequent_mask(0), Catch::Contains("subsequent_mask: size must be positive, got 0"));
}

TEST_CASE("padding_mask marks real tokens", "[data][masks]") {
  auto tokens = torch::tensor({5, 3, 0, 0, 7, 0, 2, 9}, torch::kLong).view({2, 4});
  auto mask = padding_mask(tokens, /*pad=*/0);
  REQUIRE(mask.sizes() == torch::IntArrayRef({2, 1, 4}));
  REQUIRE(mask.scalar_type() == torch::kBool);
  auto expected = torch::tensor({true, true, false, false, true, false, true, true}).view({2, 1, 4});
  CHECK(torch::equal(mask, expected));
  // Another pad id.
  CHECK(torch::equal(padding_mask(tokens, 7), tokens.ne(7).unsqueeze(1)));
  REQUIRE_THROWS_WITH(padding_mask(torch::zeros({4}, torch::kLong), 0),
                      Catch::Contains("padding_mask: expected tokens of shape [B, T], got [4]"));
}

TEST_CASE("causal_padding_mask combines padding and subsequent masks", "[data][masks]") {
  auto tokens = torch::tensor({4, 2, 6, 0, 0, 1, 3, 5, 8, 9}, torch::kLong).view({2, 5});
  auto mask = causal_padding_mask(tokens, 0);
  REQUIRE(mask.sizes() == torch::IntArrayRef({2, 5, 5}));
  REQUIRE(mask.scalar_type() == torch::kBool);
  // Row 0, query 4: may see 0..2 (3 and 4 are padding).
  CHECK(torch::equal(mask[0][4], torch::tensor({true, true, true, false, false})));
  // Row 1, query 1: may see 0..1 only (no padding, causal).
  CHECK(torch::equal(mask[1][1], torch::tensor({true, true, false, false, false})));
  CHECK(torch::equal(mask[1], torch::ones({5, 5}, torch::kBool).tril()));
}

TEST_CASE("padding and causal masks match the reference Batch", "[data][masks][golden]") {
  // encoder_decoder's inputs were built by (src != pad).unsqueeze(-2) and Batch.make_std_mask.
  const auto golden = load_golden("encoder_decoder");
  const auto& src = golden_value(golden, "input.src");
  const auto& tgt = golden_value(golden, "input.tgt");
  check_close(padding_mask(src, kPad), golden_value(golden, "input.src_mask"), 0.0, "src_mask");
  check_close(causal_padding_mask(tgt, kPad), golden_value(golden, "input.tgt_mask"), 0.0, "tgt_mask");
}
