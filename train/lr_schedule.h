#pragma once
// Learning-rate schedules as multipliers of the optimizer's base rate, like
// torch.optim.lr_scheduler.LambdaLR: at optimizer step s (0-based, the number
// of steps already taken) every parameter group's rate is base_lr * multiplier(s).
// The scheduler steps once per optimizer step, not per batch, so gradient
// accumulation does not speed the schedule up.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/optim/optimizer.h>

namespace torchzoo::train {

/// A learning-rate schedule: the multiplier of the optimizer's base rate at each optimizer step.
class LRSchedule {
 public:
  virtual ~LRSchedule() = default;
  /// Multiplier of the base learning rate at optimizer step `step` (0-based).
  virtual double multiplier(int64_t step) const = 0;
  /// One line for logs, e.g. "noam(model_size=512, factor=1, warmup=400)".
  virtual std::string describe() const = 0;
};

/// The multiplier is 1 at every step.
class ConstantSchedule : public LRSchedule {
 public:
  double multiplier(int64_t step) const override { return 1.0; }
  std::string describe() const override { return "constant"; }
};

/// Options of NoamSchedule: the model width, the factor and the warm-up.
struct NoamScheduleOptions {
  /* implicit */ NoamScheduleOptions(int64_t model_size) : model_size_(model_size) {}
  /// d_model of the model being trained.
  TORCH_ARG(int64_t, model_size);
  /// Scale of the whole curve.
  TORCH_ARG(double, factor) = 1.0;
  /// Steps of linear warm-up before the inverse square-root decay.
  TORCH_ARG(int64_t, warmup) = 4000;
};

/// Vaswani et al. 2017, section 5.3 (the annotated Transformer's `rate`):
///   factor * model_size^-0.5 * min(step^-0.5, step * warmup^-1.5), step 0 counted as 1.
class NoamSchedule : public LRSchedule {
 public:
  explicit NoamSchedule(NoamScheduleOptions options);
  double multiplier(int64_t step) const override;
  std::string describe() const override;

 private:
  NoamScheduleOptions options_;
};

/// Options of WarmupCosineSchedule: the warm-up, the length of the decay and its floor.
struct WarmupCosineScheduleOptions {
  WarmupCosineScheduleOptions(int64_t warmup, int64_t total_steps) : warmup_(warmup), total_steps_(total_steps) {}
  /// No warm-up.
  explicit WarmupCosineScheduleOptions(int64_t total_steps) : total_steps_(total_steps) {}
  /// Steps of linear warm-up from 0 to 1.
  TORCH_ARG(int64_t, warmup) = 0;
  /// Step at which the cosine reaches min_ratio.
  TORCH_ARG(int64_t, total_steps);
  /// Final multiplier.
  TORCH_ARG(double, min_ratio) = 0.0;
  /// A straight line down to min_ratio instead of the cosine (BERT's fine-tuning schedule,
  /// transformers' get_linear_schedule_with_warmup).
  TORCH_ARG(bool, linear) = false;
};

/// Linear warm-up, then cosine (or linear) decay to min_ratio at total_steps (flat after).
class WarmupCosineSchedule : public LRSchedule {
 public:
  explicit WarmupCosineSchedule(WarmupCosineScheduleOptions options);
  double multiplier(int64_t step) const override;
  std::string describe() const override;

 private:
  WarmupCosineScheduleOptions options_;
};

/// Options of InverseSqrtSchedule: the warm-up.
struct InverseSqrtScheduleOptions {
  /// Steps of linear warm-up (fairseq's warmup_updates).
  TORCH_ARG(int64_t, warmup) = 4000;
};

/// Linear warm-up to 1 over `warmup` steps, then sqrt(warmup / step) (fairseq's inverse_sqrt).
class InverseSqrtSchedule : public LRSchedule {
 public:
  explicit InverseSqrtSchedule(InverseSqrtScheduleOptions options = {});
  double multiplier(int64_t step) const override;
  std::string describe() const override;

 private:
  InverseSqrtScheduleOptions options_;
};

/// Applies a schedule to an optimizer: remembers each group's base rate and
/// sets base_lr * multiplier(step) when told the step.
///
/// Example:
///   LRScheduler scheduler(optimizer, std::make_shared<NoamSchedule>(NoamScheduleOptions(512).warmup(400)));
///   ... optimizer.step(); scheduler.step();
class LRScheduler {
 public:
  LRScheduler(torch::optim::Optimizer& optimizer, std::shared_ptr<LRSchedule> schedule);
  /// Counts one optimizer step and sets the rates for the next one.
  void step();
  /// Jumps to `step` optimizer steps taken (resuming from a checkpoint).
  void set_step(int64_t step);
  int64_t step_count() const { return step_; }
  /// The rate of the first parameter group now.
  double current_lr() const;
  const LRSchedule& schedule() const { return *schedule_; }

 private:
  void apply();

  torch::optim::Optimizer& optimizer_;
  std::shared_ptr<LRSchedule> schedule_;
  std::vector<double> base_lrs_;
  int64_t step_ = 0;
};

}  // namespace torchzoo::train
