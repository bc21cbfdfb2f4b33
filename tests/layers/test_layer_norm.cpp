#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/layers/layer_norm.h"
#include "../support/golden.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("LayerNorm matches the annotated reference", "[layers][layer_norm][golden]") {
  const auto golden = load_golden("layer_norm");
  LayerNorm norm(kDModel);
  norm->eval();
  load_parameters(*norm, golden);
  auto in = inputs(golden);
  check_parity(*norm, norm(in.at("x")), golden, in);
}

TEST_CASE("LayerNorm uses the unbiased std with eps outside the square root", "[layers][layer_norm]") {
  // Hand-computed for one row: mean 2.5, unbiased std sqrt(5/3).
  LayerNorm norm(LayerNormOptions(4).eps(0.5));
  auto x = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f});
  const double std = std::sqrt(5.0 / 3.0);
  auto expected = (x - 2.5) / (std + 0.5);
  check_close(norm(x), expected, 1e-6, "layer_norm");
}

TEST_CASE("LayerNorm use_torch_layer_norm matches torch::layer_norm", "[layers][layer_norm]") {
  torch::manual_seed(0);
  LayerNorm norm(LayerNormOptions(kDModel).eps(1e-5).use_torch_layer_norm(true));
  {
    torch::NoGradGuard no_grad;
    norm->a_2.uniform_(0.5, 1.5);
    norm->b_2.uniform_(-0.5, 0.5);
  }
  auto x = torch::randn({kBatch, 3, kDModel}) * 3.0 + 1.0;
  auto expected = torch::layer_norm(x, {kDModel}, norm->a_2, norm->b_2, 1e-5);
  check_close(norm(x), expected, 1e-6, "torch layer norm");

  // The annotated formula gives a visibly different result on the same input.
  LayerNorm annotated(LayerNormOptions(kDModel).eps(1e-5));
  {
    torch::NoGradGuard no_grad;
    annotated->a_2.copy_(norm->a_2);
    annotated->b_2.copy_(norm->b_2);
  }
  CHECK(max_abs_diff(annotated(x), expected) > 1e-3);
}

TEST_CASE("LayerNorm keeps the reference parameter names", "[layers][layer_norm]") {
  LayerNorm norm(8);
  const auto params = norm->named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params.contains("a_2"));
  CHECK(params.contains("b_2"));
  CHECK(torch::equal(norm->a_2, torch::ones({8})));
  CHECK(torch::equal(norm->b_2, torch::zeros({8})));
}

TEST_CASE("LayerNorm validates options and input", "[layers][layer_norm][errors]") {
  REQUIRE_THROWS_WITH(LayerNorm(0), Catch::Contains("LayerNorm: features must be positive, got 0"));
  REQUIRE_THROWS_WITH(LayerNorm(LayerNormOptions(4).eps(-1.0)), Catch::Contains("eps must be >= 0"));
  LayerNorm norm(kDModel);
  REQUIRE_THROWS_WITH(norm(torch::randn({2, 3, 8})),
                      Catch::Contains("LayerNorm: expected input of shape [..., 16], got [2, 3, 8]"));
}
