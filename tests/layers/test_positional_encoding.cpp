#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>

#include "torchzoo/layers/positional_encoding.h"
#include "../support/golden.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("PositionalEncoding matches the reference", "[layers][positional_encoding][golden]") {
  const auto golden = load_golden("positional_encoding");
  PositionalEncoding pos(PositionalEncodingOptions(kDModel).dropout(0.0).max_len(50));
  pos->eval();
  load_parameters(*pos, golden);  // no parameters on either side: `pe` is a buffer
  auto in = inputs(golden);
  check_parity(*pos, pos(in.at("x")), golden, in);
}

TEST_CASE("PositionalEncoding table is a buffer following the sinusoid formula", "[layers][positional_encoding]") {
  PositionalEncoding pos(PositionalEncodingOptions(8).max_len(20));
  CHECK(pos->parameters().empty());
  const auto buffers = pos->named_buffers();
  REQUIRE(buffers.contains("pe"));
  REQUIRE(buffers["pe"].sizes() == torch::IntArrayRef({1, 20, 8}));
  for (int64_t p : {0, 1, 7, 19}) {
    for (int64_t i = 0; i < 4; ++i) {
      const double angle = p / std::pow(10000.0, 2.0 * i / 8.0);
      INFO("pos " << p << ", i " << i);
      CHECK(pos->pe[0][p][2 * i].item<double>() == Approx(std::sin(angle)).margin(1e-5));
      CHECK(pos->pe[0][p][2 * i + 1].item<double>() == Approx(std::cos(angle)).margin(1e-5));
    }
  }
}

TEST_CASE("PositionalEncoding forward_at encodes the offset positions", "[layers][positional_encoding]") {
  torch::manual_seed(7);
  PositionalEncoding pos(PositionalEncodingOptions(8).max_len(10));
  pos->eval();
  auto x = torch::randn({kBatch, 5, 8});
  auto whole = pos(x);
  auto last = pos->forward_at(x.narrow(1, 3, 2), /*offset=*/3);
  check_close(last, whole.narrow(1, 3, 2), 1e-6, "offset 3");
  CHECK(max_abs_diff(pos(x.narrow(1, 3, 2)), whole.narrow(1, 3, 2)) > 1e-2);  // offset 0 differs
}

TEST_CASE("PositionalEncoding validates options and input", "[layers][positional_encoding][errors]") {
  REQUIRE_THROWS_WITH(PositionalEncoding(PositionalEncodingOptions(7)),
                      Catch::Contains("PositionalEncoding: d_model must be positive and even, got 7"));
  REQUIRE_THROWS_WITH(PositionalEncoding(PositionalEncodingOptions(8).max_len(0)),
                      Catch::Contains("max_len must be positive"));
  PositionalEncoding pos(PositionalEncodingOptions(8).max_len(10));
  REQUIRE_THROWS_WITH(pos(torch::randn({1, 11, 8})),
                      Catch::Contains("PositionalEncoding: positions 0..10 exceed max_len 10"));
  REQUIRE_THROWS_WITH(pos->forward_at(torch::randn({1, 2, 8}), 9),
                      Catch::Contains("positions 9..10 exceed max_len 10"));
  REQUIRE_NOTHROW(pos(torch::randn({1, 10, 8})));
  REQUIRE_THROWS_WITH(pos(torch::randn({1, 4, 6})),
                      Catch::Contains("PositionalEncoding: expected input of shape [B, T, 8], got [1, 4, 6]"));
}
