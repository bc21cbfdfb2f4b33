#include "torchzoo/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "torchzoo/common/check.h"

namespace torchzoo::train {

NoamSchedule::NoamSchedule(NoamScheduleOptions options) : options_(std::move(options)) {
  TORCHZOO_CHECK(options_.model_size() > 0, "NoamSchedule: model_size must be positive, got {}", options_.model_size());
  TORCHZOO_CHECK(options_.warmup() > 0, "NoamSchedule: warmup must be positive, got {}", options_.warmup());
}

double NoamSchedule::multiplier(int64_t step) const {
  const double s = static_cast<double>(std::max<int64_t>(step, 1));
  const double warmup = static_cast<double>(options_.warmup());
  return options_.factor() * std::pow(static_cast<double>(options_.model_size()), -0.5) *
         std::min(std::pow(s, -0.5), s * std::pow(warmup, -1.5));
}

std::string NoamSchedule::describe() const {
  return fmt::format("noam(model_size={}, factor={}, warmup={})", options_.model_size(), options_.factor(),
                     options_.warmup());
}

WarmupCosineSchedule::WarmupCosineSchedule(WarmupCosineScheduleOptions options) : options_(std::move(options)) {
  TORCHZOO_CHECK(options_.warmup() >= 0 && options_.total_steps() > options_.warmup(),
                 "WarmupCosineSchedule: expected 0 <= warmup < total_steps, got warmup={} total_steps={}",
                 options_.warmup(), options_.total_steps());
}

double WarmupCosineSchedule::multiplier(int64_t step) const {
  if (step < options_.warmup()) {
    return static_cast<double>(step + 1) / static_cast<double>(options_.warmup() + 1);
  }
  const double progress = std::min(1.0, static_cast<double>(step - options_.warmup()) /
                                            static_cast<double>(options_.total_steps() - options_.warmup()));
  const double pi = std::acos(-1.0);
  const double falling = options_.linear() ? 1.0 - progress : 0.5 * (1.0 + std::cos(pi * progress));  // 1 -> 0
  return options_.min_ratio() + (1.0 - options_.min_ratio()) * falling;
}

std::string WarmupCosineSchedule::describe() const {
  return fmt::format("warmup_{}(warmup={}, total_steps={}, min_ratio={})", options_.linear() ? "linear" : "cosine",
                     options_.warmup(), options_.total_steps(), options_.min_ratio());
}

InverseSqrtSchedule::InverseSqrtSchedule(InverseSqrtScheduleOptions options) : options_(options) {
  TORCHZOO_CHECK(options_.warmup() > 0, "InverseSqrtSchedule: warmup must be positive, got {}", options_.warmup());
}

double InverseSqrtSchedule::multiplier(int64_t step) const {
  const double s = static_cast<double>(step + 1);
  const double warmup = static_cast<double>(options_.warmup());
  return s < warmup ? s / warmup : std::sqrt(warmup / s);
}

std::string InverseSqrtSchedule::describe() const {
  return fmt::format("inverse_sqrt(warmup={})", options_.warmup());
}

LRScheduler::LRScheduler(torch::optim::Optimizer& optimizer, std::shared_ptr<LRSchedule> schedule)
    : optimizer_(optimizer), schedule_(std::move(schedule)) {
  TORCHZOO_CHECK(schedule_ != nullptr, "LRScheduler: schedule must not be null");
  for (auto& group : optimizer_.param_groups()) {
    base_lrs_.push_back(group.options().get_lr());
  }
  apply();
}

void LRScheduler::step() {
  ++step_;
  apply();
}

void LRScheduler::set_step(int64_t step) {
  TORCHZOO_CHECK(step >= 0, "LRScheduler: step must be >= 0, got {}", step);
  step_ = step;
  apply();
}

double LRScheduler::current_lr() const { return optimizer_.param_groups().at(0).options().get_lr(); }

void LRScheduler::apply() {
  const double multiplier = schedule_->multiplier(step_);
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    groups[i].options().set_lr(base_lrs_[i] * multiplier);
  }
}

}  // namespace torchzoo::train
