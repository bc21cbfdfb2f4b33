#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/tests/support/golden.h"
#include "torchzoo/train/lr_schedule.h"

using namespace torchzoo;
using testing::golden_value;

TEST_CASE("NoamSchedule matches the reference rate()", "[lr_schedule][parity]") {
  auto golden = testing::load_golden("noam_rate");
  train::NoamSchedule noam(train::NoamScheduleOptions(golden_value(golden, "input.model_size").item<int64_t>())
                               .factor(golden_value(golden, "input.factor").item<double>())
                               .warmup(golden_value(golden, "input.warmup").item<int64_t>()));
  auto steps = golden_value(golden, "input.steps");
  auto expected = golden_value(golden, "output");
  for (int64_t i = 0; i < steps.size(0); ++i) {
    const auto step = steps[i].item<int64_t>();
    INFO("step " << step);
    REQUIRE(noam.multiplier(step) == Approx(expected[i].item<double>()).epsilon(1e-12));
  }
}

TEST_CASE("LRScheduler sets base_lr * multiplier once per step", "[lr_schedule]") {
  auto w = torch::zeros({2}, torch::requires_grad());
  torch::optim::Adam adam({w}, torch::optim::AdamOptions(0.5));
  auto noam = std::make_shared<train::NoamSchedule>(train::NoamScheduleOptions(512).warmup(400));
  train::LRScheduler scheduler(adam, noam);
  // Like LambdaLR: before any step the rate is base * rate(0), with step 0 counted as 1.
  REQUIRE(scheduler.current_lr() == Approx(0.5 * noam->multiplier(1)));
  scheduler.step();
  scheduler.step();
  REQUIRE(scheduler.step_count() == 2);
  REQUIRE(scheduler.current_lr() == Approx(0.5 * noam->multiplier(2)));
  scheduler.set_step(400);
  REQUIRE(scheduler.current_lr() == Approx(0.5 * std::pow(512.0, -0.5) * std::pow(400.0, -0.5)));
}

TEST_CASE("WarmupCosineSchedule warms up linearly and decays to min_ratio", "[lr_schedule]") {
  train::WarmupCosineSchedule schedule(train::WarmupCosineScheduleOptions(9, 109).min_ratio(0.1));
  REQUIRE(schedule.multiplier(0) == Approx(0.1));
  REQUIRE(schedule.multiplier(4) == Approx(0.5));
  REQUIRE(schedule.multiplier(9) == Approx(1.0));
  REQUIRE(schedule.multiplier(59) == Approx(0.55));
  REQUIRE(schedule.multiplier(109) == Approx(0.1));
  REQUIRE(schedule.multiplier(500) == Approx(0.1));
}

TEST_CASE("InverseSqrtSchedule peaks at the end of warm-up", "[lr_schedule]") {
  train::InverseSqrtSchedule schedule(train::InverseSqrtScheduleOptions().warmup(100));
  REQUIRE(schedule.multiplier(49) == Approx(0.5));
  REQUIRE(schedule.multiplier(99) == Approx(1.0));
  REQUIRE(schedule.multiplier(399) == Approx(0.5));
}

TEST_CASE("Schedules reject bad options", "[lr_schedule][errors]") {
  REQUIRE_THROWS_WITH(train::NoamSchedule(train::NoamScheduleOptions(512).warmup(0)),
                      Catch::Contains("warmup must be positive, got 0"));
  REQUIRE_THROWS_WITH(train::WarmupCosineSchedule(train::WarmupCosineScheduleOptions(10, 10)),
                      Catch::Contains("expected 0 <= warmup < total_steps, got warmup=10 total_steps=10"));
}
