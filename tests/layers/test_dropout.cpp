#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/layers/dropout.h"
#include "../support/golden.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

namespace {

// The kept share of a dropout of ones: each element is 0 or 1 / (1 - p).
double kept_share(const torch::Tensor& y) { return (y != 0).to(torch::kDouble).mean().item<double>(); }

}  // namespace

TEST_CASE("dropout keeps 1 - p of the elements, scaled by 1 / (1 - p)", "[layers][dropout]") {
  torch::manual_seed(0);
  const int64_t n = 1 << 20;
  for (const double p : {0.1, 0.5, 0.9}) {
    const auto y = fused_dropout(torch::ones({n}), p, /*training=*/true);
    const auto kept = y != 0;
    CHECK(torch::allclose(y.masked_select(kept), torch::full({1}, 1.0 / (1.0 - p)), 1e-6, 0));
    // Binomial: the share is within 6 standard deviations of 1 - p.
    const double sigma = std::sqrt(p * (1 - p) / static_cast<double>(n));
    CHECK(std::abs(kept_share(y) - (1.0 - p)) < 6 * sigma);
  }
}

TEST_CASE("dropout's decisions are uncorrelated between neighbours and between calls", "[layers][dropout]") {
  torch::manual_seed(1);
  const int64_t n = 1 << 20;
  const auto a = (fused_dropout(torch::ones({n}), 0.5, true) != 0).to(torch::kDouble) - 0.5;
  const auto b = (fused_dropout(torch::ones({n}), 0.5, true) != 0).to(torch::kDouble) - 0.5;
  const double bound = 6.0 / std::sqrt(static_cast<double>(n));  // correlation of independent bits: ~1/sqrt(n)
  for (const int64_t lag : {1, 2, 16, 1024}) {
    const auto c = (a.narrow(0, 0, n - lag) * a.narrow(0, lag, n - lag)).mean().item<double>() * 4.0;
    CHECK(std::abs(c) < bound);
  }
  CHECK(std::abs((a * b).mean().item<double>() * 4.0) < bound);
}

TEST_CASE("dropout follows torch::manual_seed and not the thread count", "[layers][dropout]") {
  const auto x = torch::randn({300, 700});
  const int threads = torch::get_num_threads();
  torch::set_num_threads(1);
  torch::manual_seed(7);
  const auto one = fused_dropout(x, 0.3, true);
  torch::set_num_threads(2);
  torch::manual_seed(7);
  const auto two = fused_dropout(x, 0.3, true);
  const auto next = fused_dropout(x, 0.3, true);
  torch::set_num_threads(threads);
  CHECK(torch::equal(one, two));
  CHECK_FALSE(torch::equal(two, next));
}

TEST_CASE("dropout's gradient is its mask and scale", "[layers][dropout]") {
  torch::manual_seed(2);
  auto x = (torch::rand({64, 130}) + 0.5).requires_grad_(true);  // no zeros: y / x recovers the factor
  const auto y = fused_dropout(x, 0.25, true);
  const auto g = torch::randn({64, 130});
  y.backward(g);
  check_close(x.grad(), g * (y / x).detach(), 1e-6, "grad");
}

TEST_CASE("dropout_add is residual + dropout, with the residual's gradient passed through", "[layers][dropout]") {
  const auto x0 = torch::randn({8, 10, 32});
  const auto r0 = torch::randn({8, 10, 32});
  auto x = x0.clone().requires_grad_(true);
  auto r = r0.clone().requires_grad_(true);
  torch::manual_seed(5);
  const auto fused = fused_dropout_add(x, r, 0.2, true);
  torch::manual_seed(5);
  const auto unfused = r0 + fused_dropout(x0, 0.2, true);
  check_close(fused, unfused, 1e-6, "dropout_add");
  // The mask and scale alone, from the same seed: dropout of ones. x's gradient is g times it.
  torch::manual_seed(5);
  const auto factor = fused_dropout(torch::ones_like(x0), 0.2, true);
  check_close(unfused, r0 + x0 * factor, 1e-6, "dropout_add from the mask");
  const auto g = torch::randn({8, 10, 32});
  fused.backward(g);
  CHECK(torch::equal(r.grad(), g));
  check_close(x.grad(), g * factor, 1e-6, "grad of x");
}

TEST_CASE("dropout is the identity outside training and at p 0, and takes float64 and bf16", "[layers][dropout]") {
  const auto x = torch::randn({5, 9});
  CHECK(fused_dropout(x, 0.5, false).is_same(x));
  CHECK(fused_dropout(x, 0.0, true).is_same(x));
  CHECK(torch::equal(fused_dropout_add(x, x, 0.5, false), x + x));
  for (const auto dtype : {torch::kDouble, torch::kBFloat16}) {
    const auto y = fused_dropout(torch::ones({4096}, dtype), 0.5, true);
    CHECK(y.scalar_type() == dtype);
    const auto values = std::get<0>(torch::_unique(y.to(torch::kFloat)));
    CHECK(values.numel() == 2);
    CHECK(values.min().item<float>() == 0.0f);
    CHECK(values.max().item<float>() == 2.0f);
  }
}

TEST_CASE("Dropout module follows train() and eval() and validates p", "[layers][dropout]") {
  Dropout drop(0.5);
  const auto x = torch::ones({1000});
  drop->train();
  CHECK(kept_share(drop(x)) < 0.6);
  drop->eval();
  CHECK(torch::equal(drop(x), x));
  CHECK(torch::equal(drop->forward_add(x, x), x + x));
  REQUIRE_THROWS_WITH(Dropout(1.0), Catch::Contains("dropout: p must be in [0, 1), got 1"));
  REQUIRE_THROWS_WITH(fused_dropout(x, -0.1, true), Catch::Contains("dropout: p must be in [0, 1)"));
}

TEST_CASE("fused_relu_dropout is dropout(relu(x)) with relu's and the mask's gradient", "[layers][dropout]") {
  const auto x0 = torch::randn({16, 70, 48});
  auto x = x0.clone().requires_grad_(true);
  torch::manual_seed(9);
  const auto fused = fused_relu_dropout(x, 0.3, true);
  torch::manual_seed(9);
  const auto unfused = fused_dropout(torch::relu(x0), 0.3, true);
  CHECK(torch::equal(fused, unfused));
  const auto g = torch::randn(x0.sizes());
  fused.backward(g);
  // Where the element passed (x > 0 and kept) the gradient is g / (1 - p); elsewhere 0.
  const auto passed = (unfused > 0).to(torch::kFloat);
  check_close(x.grad(), g * passed / 0.7, 1e-6, "grad");
  CHECK((passed.mean().item<double>() - 0.5 * 0.7) < 0.01);
  // Outside training: relu alone.
  CHECK(torch::equal(fused_relu_dropout(x0, 0.3, false), torch::relu(x0)));
}
