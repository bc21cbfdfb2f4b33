#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/tests/support/golden.h"
#include "torchzoo/train/label_smoothing.h"

using namespace torchzoo;
using testing::golden_value;

TEST_CASE("LabelSmoothing matches the reference loss and gradient", "[label_smoothing][parity]") {
  auto golden = testing::load_golden("label_smoothing");
  train::LabelSmoothing criterion(
      train::LabelSmoothingOptions(golden_value(golden, "input.size").item<int64_t>(),
                                   golden_value(golden, "input.padding_idx").item<int64_t>())
          .smoothing(golden_value(golden, "input.smoothing").item<double>()));
  auto x = golden_value(golden, "input.x").clone().requires_grad_(true);
  auto loss = criterion(x, golden_value(golden, "input.target"));
  testing::check_close(loss, golden_value(golden, "output"), testing::kOutputAtol, "loss");
  (loss * golden_value(golden, "loss_weights")).sum().backward();
  testing::check_close(x.grad(), golden_value(golden, "grad_input.x"), testing::kGradAtol, "grad of x");
}

TEST_CASE("LabelSmoothing without smoothing is the negative log-likelihood over non-padding", "[label_smoothing]") {
  auto log_probs = torch::randn({6, 7}).log_softmax(-1);
  auto target = torch::tensor({3, 0, 5, 1, 0, 6}, torch::kLong);
  train::LabelSmoothing criterion(train::LabelSmoothingOptions(7, 0));
  auto expected = torch::nll_loss(log_probs, target, {}, at::Reduction::Sum, /*ignore_index=*/0);
  REQUIRE(criterion(log_probs, target).item<double>() == Approx(expected.item<double>()).epsilon(1e-6));
}

TEST_CASE("LabelSmoothing target distribution sums to one on real tokens and zero on padding", "[label_smoothing]") {
  train::LabelSmoothing criterion(train::LabelSmoothingOptions(5, 0).smoothing(0.3));
  auto dist = criterion->target_distribution(torch::tensor({2, 0, 4}, torch::kLong), torch::kFloat);
  auto sums = dist.sum(1);
  REQUIRE(sums[0].item<double>() == Approx(1.0));
  REQUIRE(sums[1].item<double>() == 0.0);
  REQUIRE(dist.select(1, 0).abs().sum().item<double>() == 0.0);
  REQUIRE(dist[0][2].item<double>() == Approx(0.7));
  REQUIRE(dist[0][1].item<double>() == Approx(0.1));
}

TEST_CASE("LabelSmoothing rejects bad options and shapes", "[label_smoothing][errors]") {
  REQUIRE_THROWS_WITH(train::LabelSmoothing(train::LabelSmoothingOptions(11, 11)),
                      Catch::Contains("padding_idx must lie in [0, 11), got 11"));
  REQUIRE_THROWS_WITH(train::LabelSmoothing(train::LabelSmoothingOptions(11, 0).smoothing(1.0)),
                      Catch::Contains("smoothing must be in [0, 1), got 1"));
  train::LabelSmoothing criterion(train::LabelSmoothingOptions(11, 0));
  REQUIRE_THROWS_WITH(criterion(torch::zeros({4, 10}), torch::zeros({4}, torch::kLong)),
                      Catch::Contains("expected log-probabilities of shape [N, 11], got [4, 10]"));
}
