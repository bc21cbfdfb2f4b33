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

namespace {

// The annotated formula through ATen's autograd, in float64 (the exact result the float kernel is
// held to) or float32 (what the reference computes in float).
struct FormulaResult {
  torch::Tensor y, dx, da, db;
};

FormulaResult formula(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& g,
                      double eps, torch::ScalarType dtype = torch::kDouble) {
  auto xd = x.detach().to(dtype).requires_grad_(true);
  auto ad = a.detach().to(dtype).requires_grad_(true);
  auto bd = b.detach().to(dtype).requires_grad_(true);
  auto mean = xd.mean(-1, true);
  auto std = xd.std(-1, /*unbiased=*/true, /*keepdim=*/true);
  auto y = ad * (xd - mean) / (std + eps) + bd;
  y.backward(g.to(dtype));
  return {y.detach(), xd.grad(), ad.grad(), bd.grad()};
}

// The kernel's error against the float64 formula is at most a few times the float32 formula's
// (the reference's own rounding), plus a little: sound where the problem is ill-conditioned too
// (2 features, nearly equal values).
void check_as_accurate(const torch::Tensor& got, const torch::Tensor& exact, const torch::Tensor& reference32,
                       const std::string& what) {
  const double reference_error = max_abs_diff(reference32.to(torch::kDouble), exact);
  const double error = max_abs_diff(got.to(torch::kDouble), exact);
  INFO(what << ": kernel error " << error << ", float32 formula's error " << reference_error);
  CHECK(error <= 4.0 * reference_error + 1e-6);
}

// The layer's forward (the float kernel, for float CPU input) and its gradients for upstream g.
FormulaResult fused(LayerNorm& norm, const torch::Tensor& x, const torch::Tensor& g) {
  for (auto& p : norm->parameters()) p.mutable_grad() = torch::Tensor();
  auto input = x.detach().clone().requires_grad_(true);  // clone keeps x's strides
  auto y = norm(input);
  y.backward(g);
  return {y.detach(), input.grad(), norm->a_2.grad(), norm->b_2.grad()};
}

}  // namespace

TEST_CASE("LayerNorm's float kernel matches the formula forward and backward", "[layers][layer_norm]") {
  torch::manual_seed(3);
  // 512 features (the models' width), 33 (not a multiple of the kernel's 16 lanes), 2 (the least).
  for (const int64_t features : {int64_t{512}, int64_t{33}, int64_t{2}}) {
    DYNAMIC_SECTION("features " << features) {
      LayerNorm norm(LayerNormOptions(features).eps(1e-6));
      {
        torch::NoGradGuard no_grad;
        norm->a_2.uniform_(0.5, 1.5);
        norm->b_2.uniform_(-0.5, 0.5);
      }
      const auto x = torch::randn({4, 37, features}) * 2.0 + 0.5;
      const auto g = torch::randn({4, 37, features});
      const auto got = fused(norm, x, g);
      const auto want = formula(x, norm->a_2, norm->b_2, g, 1e-6);
      const auto in_float = formula(x, norm->a_2, norm->b_2, g, 1e-6, torch::kFloat);
      CHECK(got.y.scalar_type() == torch::kFloat);
      check_as_accurate(got.y, want.y, in_float.y, "y");
      check_as_accurate(got.dx, want.dx, in_float.dx, "dx");
      check_as_accurate(got.da, want.da, in_float.da, "da");
      check_as_accurate(got.db, want.db, in_float.db, "db");
      check_close(got.y, want.y.to(torch::kFloat), 1e-5, "y");
    }
  }
}

TEST_CASE("LayerNorm's float kernel takes non-contiguous input and gives the same result on 1 and 2 threads",
          "[layers][layer_norm]") {
  torch::manual_seed(4);
  LayerNorm norm(LayerNormOptions(64));
  const auto x = torch::randn({64, 300}).t();  // [300, 64], a transposed view
  REQUIRE_FALSE(x.is_contiguous());
  REQUIRE_FALSE(x.clone().is_contiguous());
  const auto g = torch::randn({300, 64});
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  const auto one = fused(norm, x, g);
  torch::set_num_threads(2);
  const auto two = fused(norm, x, g);
  torch::set_num_threads(threads);
  CHECK(torch::equal(one.y, two.y));
  CHECK(torch::equal(one.dx, two.dx));
  check_close(one.da, two.da, 1e-5, "da");  // summed per thread, then over the threads
  const auto want = formula(x, norm->a_2, norm->b_2, g, 1e-6);
  check_close(one.y, want.y.to(torch::kFloat), 1e-5, "y");
  check_close(one.dx, want.dx.to(torch::kFloat), 1e-4, "dx");
}

TEST_CASE("LayerNorm's float kernel gives finite gradients on a constant row", "[layers][layer_norm]") {
  LayerNorm norm(LayerNormOptions(8));
  auto x = torch::full({2, 8}, 3.0f);
  x[1] = torch::arange(8, torch::kFloat);
  const auto got = fused(norm, x, torch::ones({2, 8}));
  CHECK(torch::isfinite(got.dx).all().item<bool>());
  CHECK(torch::equal(got.y[0], torch::zeros({8})));  // (x - mean) = 0, b = 0
  // The varied row matches the formula; the constant row's dx is r * (gh - mean(gh)) = 0 here.
  const auto want = formula(x[1].unsqueeze(0), norm->a_2, norm->b_2, torch::ones({1, 8}), 1e-6);
  check_close(got.dx[1].unsqueeze(0), want.dx.to(torch::kFloat), 1e-5, "dx");
  CHECK(got.dx[0].abs().max().item<float>() == 0.0f);
}

TEST_CASE("LayerNorm in float64 keeps the formula", "[layers][layer_norm]") {
  LayerNorm norm(LayerNormOptions(16));
  norm->to(torch::kDouble);
  const auto x = torch::randn({3, 16}, torch::kDouble);
  const auto want = formula(x, norm->a_2, norm->b_2, torch::ones({3, 16}), 1e-6);
  check_close(norm(x), want.y, 1e-12, "y");
}
