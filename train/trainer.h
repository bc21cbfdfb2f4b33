#pragma once
// The training loop: epochs of batches from a Task, gradient accumulation done
// right (each micro-batch's loss is divided by the accumulation count, and the
// optimizer and the schedule step once per accumulated step -- the annotated
// Transformer's run_epoch steps its scheduler per batch), optional gradient
// clipping, evaluation after each epoch, a progress line, a JSON-lines
// metrics log and an atomically written checkpoint after each epoch.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <torch/arg.h>
#include <torch/optim/optimizer.h>

#include "torchzoo/train/lr_schedule.h"
#include "torchzoo/train/metrics_log.h"
#include "torchzoo/train/task.h"

namespace torchzoo::train {

struct TrainerOptions {
  /// Passes over the training batches.
  TORCH_ARG(int64_t, epochs) = 1;
  /// Micro-batches whose gradients are summed before one optimizer step.
  TORCH_ARG(int64_t, accum_steps) = 1;
  /// Maximum global gradient norm; 0 turns clipping off.
  TORCH_ARG(double, clip_grad_norm) = 0.0;
  /// Print a progress line every this many optimizer steps (0: only per epoch).
  TORCH_ARG(int64_t, log_every) = 10;
  /// Stop after this many optimizer steps (0: no limit).
  TORCH_ARG(int64_t, max_steps) = 0;
  /// Folder for checkpoint.pt and metrics.jsonl; empty writes nothing.
  TORCH_ARG(std::string, out_dir) = "";
  /// The config text stored in checkpoints.
  TORCH_ARG(std::string, config_text) = "";
  /// Device the task's model and batches live on.
  TORCH_ARG(torch::Device, device) = torch::kCPU;
  /// Mixed precision for forward passes and evaluation (bf16 or fp16); none: fp32.
  TORCH_ARG(std::optional<c10::ScalarType>, autocast) = std::nullopt;
  /// Also keep best.pt, the checkpoint whose validation `keep_best` was best (empty: off).
  TORCH_ARG(std::string, keep_best) = "";
  /// Whether a larger keep_best metric is better (accuracy) or a smaller one (loss).
  TORCH_ARG(bool, keep_best_max) = true;
};

struct TrainResult {
  int64_t steps = 0;
  int64_t epochs = 0;
  double train_loss = 0.0;  ///< per item, last epoch
  Metrics eval;             ///< last evaluation
  double seconds = 0.0;
  std::optional<double> best;  ///< best value of keep_best, when kept
  int64_t best_epoch = 0;
};

/// Example:
///   Trainer trainer(TrainerOptions().epochs(20).out_dir("runs/copy"), task, optimizer, scheduler);
///   auto result = trainer.fit();
class Trainer {
 public:
  Trainer(TrainerOptions options, Task& task, torch::optim::Optimizer& optimizer, LRScheduler& scheduler);

  /// Continues from a checkpoint written by this trainer (same config): weights, optimizer,
  /// schedule, counters and random state; training then goes on from the next epoch.
  void resume(const std::string& checkpoint_path);
  /// Trains for the remaining epochs and returns the final figures.
  TrainResult fit();
  /// Where fit() writes the checkpoint ("" when out_dir is empty).
  std::string checkpoint_path() const;
  /// Where fit() keeps the best checkpoint ("" when out_dir or keep_best is empty).
  std::string best_checkpoint_path() const;

  /// Lines of progress go here (stderr by default).
  std::function<void(const std::string&)> print;

 private:
  void optimizer_step();
  /// Records `eval`'s keep_best value if it is the best so far; returns whether it was.
  bool update_best(const Metrics& eval, int64_t epoch);
  void log_step(int64_t epoch, double loss, double units_per_s, double eta_s);

  TrainerOptions options_;
  Task& task_;
  torch::optim::Optimizer& optimizer_;
  LRScheduler& scheduler_;
  MetricsLog metrics_;
  int64_t step_ = 0;
  int64_t epoch_ = 0;
  std::optional<double> best_;
  int64_t best_epoch_ = 0;
};

}  // namespace torchzoo::train
