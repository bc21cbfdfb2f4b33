#pragma once
// The training loop: epochs of batches from a Task, gradient accumulation done
// right (each micro-batch's loss is divided by the accumulation count, and the
// optimizer and the schedule step once per accumulated step -- the annotated
// Transformer's run_epoch steps its scheduler per batch), optional gradient
// clipping, a progress line and a JSON-lines metrics log.
//
// Evaluation runs after each epoch, or every `eval_every` optimizer steps (as
// OpenNMT's valid_steps and Marian's valid-freq), and each evaluation writes
// an atomic checkpoint that resumes at the next batch. On top of that, as
// translation toolkits do: the best checkpoint by a validation metric
// (best.pt), early stopping after `patience` evaluations without a new best,
// and the average of the weights of the last `average_last` evaluations
// (averaged.pt; Vaswani et al. 2017 average the last 5 or 20 checkpoints).
//
// Precision: forward passes run under autocast when asked; fp16 comes with
// dynamic loss scaling (GradScaler), whose skipped steps are logged. An
// exponential moving average of the weights (ema_decay, timm's ModelEmaV3) is
// evaluated beside the raw weights and saved as ema.pt.
//
// Non-finite values never pass silently: a step whose loss or gradients hold an
// inf or NaN stops training with an error naming the step and batch (or is
// skipped, with skip_nonfinite; with a loss scaler such steps are the scaler's
// to skip), and a model with non-finite weights never overwrites a checkpoint.
//
// Faults: checkpoint.pt is also written every save_every_steps optimizer steps
// and every save_every_minutes, and when `interrupted` reports a signal (the
// CLI's SIGINT/SIGTERM, train/interrupt.h): the loop finishes the step, saves,
// and fit() returns with interrupted_by set. A checkpoint resumes exactly: the
// position within the epoch, the random state, and the running loss sums of
// the epoch and of the progress window, so a resumed run writes the very
// weights and metrics an uninterrupted one would. Temporary files that killed
// runs left in out_dir are removed when the trainer starts.
//
// Distributed (process_group set, train/distributed.h): every rank runs this
// loop on its shard of each epoch's batches -- rank r takes batches r, r + N,
// r + 2N, ... of the N-rank run, so one optimizer step of N ranks sees the
// batches that one process with N times the accumulation would -- and
// DataParallel averages the gradients (only on each group's last
// micro-batch). The decisions that must agree are taken together: one small
// all-reduce per optimizer step carries a non-finite loss, a signal and a
// save due by the clock. Training metrics are summed over the ranks; rank 0
// evaluates and shares the figures; rank 0 alone prints, logs and writes
// checkpoints, which hold every rank's random state.
//
// On a GPU the loop does not wait for the device per batch: losses add up on
// the device and are read when a progress line is printed. The step-by-step
// checks that need the host (the scaler's skip decision, skip_nonfinite) read
// one flag per optimizer step, as Python's GradScaler.step does; without them
// a non-finite step is found when the next progress line is printed, before
// anything is saved.
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/optim/optimizer.h>

#include "torchzoo/common/progress_bar.h"
#include "torchzoo/layers/linear_kernel.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/data_parallel.h"
#include "torchzoo/train/distributed.h"
#include "torchzoo/train/ema.h"
#include "torchzoo/train/grad_scaler.h"
#include "torchzoo/train/lr_schedule.h"
#include "torchzoo/train/metrics_log.h"
#include "torchzoo/train/tasks/task.h"

namespace torchzoo::train {

class OpProfile;

/// Options of Trainer: the length of training, accumulation and clipping, logging, evaluation and
/// checkpoints, precision, and distribution.
struct TrainerOptions {
  /// Passes over the training batches.
  TORCH_ARG(int64_t, epochs) = 1;
  /// Micro-batches whose gradients are summed before one optimizer step.
  TORCH_ARG(int64_t, accum_steps) = 1;
  /// Maximum global gradient norm; 0 turns clipping off.
  TORCH_ARG(double, clip_grad_norm) = 0.0;
  /// Print a progress line every this many optimizer steps (0: only per epoch).
  TORCH_ARG(int64_t, log_every) = 10;
  /// Also draw a live progress bar per epoch on stderr (steps, rate, time left, the last logged
  /// loss, lr; common/progress_bar.h), with the progress lines above it. The CLI sets it where
  /// stderr is a terminal.
  TORCH_ARG(bool, progress_bar) = false;
  /// Progress lines and step records also give the model's matrix FLOP/s (counted in the first
  /// optimizer step, train/flop_counter.h) and its share of this machine's GEMM ceiling (MFU,
  /// train/gemm_ceiling.h: measured once, then cached).
  TORCH_ARG(bool, report_mfu) = true;
  /// Profile this optimizer step (1-based; 0: none) with PyTorch's profiler (train/op_profile.h):
  /// its forward, backward and optimizer ops. The table of the ops with the most self time is
  /// printed and written to out_dir/profile.txt, the trace to out_dir/profile_trace.json.
  TORCH_ARG(int64_t, profile_step) = 0;
  /// Stop after this many optimizer steps (0: no limit).
  TORCH_ARG(int64_t, max_steps) = 0;
  /// Folder for checkpoint.pt and metrics.jsonl; empty writes nothing.
  TORCH_ARG(std::string, out_dir) = "";
  /// The config text stored in checkpoints.
  TORCH_ARG(std::string, config_text) = "";
  /// The config with every default written in (configs::Config::resolved_yaml), stored beside it.
  TORCH_ARG(std::string, resolved_config_text) = "";
  /// Device the task's model and batches live on.
  TORCH_ARG(torch::Device, device) = torch::kCPU;
  /// Mixed precision for forward passes and evaluation (bf16 or fp16); none: fp32.
  TORCH_ARG(std::optional<c10::ScalarType>, autocast) = std::nullopt;
  /// The kernel of float32 CPU linears while fit() runs (layers/linear_kernel.h; blas is PyTorch's).
  TORCH_ARG(layers::LinearKernel, linear_kernel) = layers::LinearKernel::kBlas;
  /// Also keep best.pt, the checkpoint whose validation `keep_best` was best (empty: off).
  TORCH_ARG(std::string, keep_best) = "";
  /// Whether a larger keep_best metric is better (accuracy) or a smaller one (loss).
  TORCH_ARG(bool, keep_best_max) = true;
  /// Evaluate (and checkpoint) every this many optimizer steps; 0: after each epoch.
  TORCH_ARG(int64_t, eval_every) = 0;
  /// Stop after this many evaluations without a new best keep_best value; 0: never.
  TORCH_ARG(int64_t, patience) = 0;
  /// Keep the weights of the last this many evaluations and write their average to averaged.pt; 0: off.
  TORCH_ARG(int64_t, average_last) = 0;
  /// Dynamic loss scaling (off by default; the config turns it on with fp16 autocast).
  TORCH_ARG(GradScalerOptions, grad_scaler) = GradScalerOptions().enabled(false);
  /// Decay of the exponential moving average of the weights (ema.pt); 0: off.
  TORCH_ARG(double, ema_decay) = 0.0;
  /// timm-style warm-up of the EMA decay (ModelEmaOptions::warmup).
  TORCH_ARG(bool, ema_warmup) = true;
  /// A step with a non-finite loss or gradient is skipped (and logged) instead of stopping training.
  TORCH_ARG(bool, skip_nonfinite) = false;
  /// Also write checkpoint.pt every this many optimizer steps (0: only at evaluations).
  TORCH_ARG(int64_t, save_every_steps) = 0;
  /// Also write checkpoint.pt when this many minutes have passed since the last save (0: off).
  TORCH_ARG(double, save_every_minutes) = 0.0;
  /// Polled after each optimizer step: a non-zero signal number stops training with a checkpoint.
  TORCH_ARG(std::function<int()>, interrupted) = nullptr;
  /// The distributed run this trainer is one rank of (null: one process).
  TORCH_ARG(std::shared_ptr<ProcessGroup>, process_group) = nullptr;
  /// Gradient buckets of a distributed run.
  TORCH_ARG(DataParallelOptions, data_parallel) = DataParallelOptions();
};

/// What Trainer::fit() returns: the steps and epochs done and the final figures.
struct TrainResult {
  int64_t steps = 0;
  int64_t epochs = 0;
  double train_loss = 0.0;  ///< per item, last epoch
  Metrics eval;             ///< last evaluation
  double seconds = 0.0;
  std::optional<double> best;  ///< best value of keep_best, when kept
  int64_t best_epoch = 0;      ///< epoch (1-based) of the evaluation that reached `best`
  int64_t best_step = 0;       ///< optimizer step of that evaluation
  bool stopped_early = false;  ///< patience ran out
  Metrics averaged_eval;       ///< evaluation of the averaged weights, when average_last is set
  Metrics ema_eval;            ///< last evaluation of the EMA weights, when ema_decay is set
  int64_t skipped_steps = 0;   ///< optimizer steps skipped for inf/NaN gradients (this fit)
  int interrupted_by = 0;      ///< the signal that stopped training (0: it ran to its end)
  std::optional<DataParallelStats> data_parallel;  ///< the gradient all-reduce's figures (distributed runs)
};

/// The files and folders of a run that `out_dir` holds (metrics.jsonl, checkpoint.pt, best.pt,
/// ema.pt, averaged.pt, snapshots, confusion_matrix.csv, curves.png, TensorBoard's events.out.tfevents.*),
/// by name; empty for a new folder.
std::vector<std::string> existing_run_files(const std::string& out_dir);

/// The training loop: epochs of a Task's batches with gradient accumulation, clipping, the optimizer
/// and the schedule, evaluation, checkpoints and the metrics log.
///
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
  /// Where fit() logs metrics ("" when out_dir is empty).
  std::string metrics_path() const;
  /// Where fit() keeps the best checkpoint ("" when out_dir or keep_best is empty).
  std::string best_checkpoint_path() const;
  /// Where fit() writes the averaged weights ("" when out_dir is empty or average_last is 0).
  std::string averaged_checkpoint_path() const;
  /// Where fit() writes the EMA weights ("" when out_dir is empty or ema_decay is 0).
  std::string ema_checkpoint_path() const;
  /// The loss scaler (enabled or not) and the weight average (null when off).
  const GradScaler& grad_scaler() const { return scaler_; }
  const ModelEma* ema() const { return ema_.get(); }
  /// Rank 0 prints, logs and writes; one process is rank 0.
  bool is_rank0() const { return group_ == nullptr || group_->rank() == 0; }

  /// Lines of progress go here (stderr by default).
  std::function<void(const std::string&)> print;
  /// Called on rank 0 with each record after it is written to metrics.jsonl ("step", "eval",
  /// "epoch", "save", ...; train/metrics_log.h), e.g. to refresh a plot or feed TensorBoard.
  std::function<void(const std::string& event, const MetricsLog::Fields& fields)> on_record;

 private:
  /// Unscales, checks, clips and steps (or skips) at the end of an accumulation group
  /// ending at batch `batch` of epoch_; returns whether the optimizer stepped.
  bool optimizer_step(int64_t batch);
  /// Stops with an error if a step recorded a non-finite loss or gradient (a host read).
  void check_finite_steps();
  /// Training state saved beside the optimizer's: the scaler, the EMA.
  std::vector<CheckpointPart> checkpoint_parts();
  /// The task's evaluation in eval mode, without gradients, under the run's autocast. Distributed:
  /// rank 0 evaluates and every rank gets its figures, unless `here_only`.
  Metrics evaluate_now(bool here_only = false);
  /// Batch `index` of this rank's shard of an epoch of `batches` batches, as the task numbers them.
  int64_t global_batch(int64_t index, int64_t batches) const;
  /// The run's (summed over ranks) loss and items of `sum`/`count` plus `units` (distributed: one all-reduce).
  struct Totals {
    double loss = 0.0;
    int64_t count = 0, units = 0;
    /// The loss per item (NaN when there were none).
    double per_item() const { return count > 0 ? loss / static_cast<double>(count) : std::nan(""); }
  };
  Totals totals(const torch::Tensor& sum, int64_t count, int64_t units = 0);
  /// Distributed: what the ranks must decide together after a micro-batch group (one all-reduce of
  /// the local loss's finiteness, a received signal and a save due by the clock).
  void agree_on_step();
  /// The "distributed" checkpoint part: every rank's random state.
  CheckpointPart distributed_part();
  /// Evaluates, logs, checkpoints (position: `epochs_done` whole epochs plus `next_batch`
  /// batches) and returns whether early stopping says to stop.
  bool evaluate_and_save(int64_t epochs_done, int64_t next_batch, double train_loss, TrainResult& result);
  /// Writes checkpoint.pt (and ema.pt; best.pt when `improved`) at that position.
  void save_position(int64_t epochs_done, int64_t next_batch, bool improved);
  /// Whether save_every_steps or save_every_minutes asks for a save now.
  bool save_due() const;
  /// Records `eval`'s keep_best value if it is the best so far; returns whether it was.
  bool update_best(const Metrics& eval, int64_t epoch);
  /// Keeps this evaluation's weights among the last average_last ones.
  void save_snapshot(const CheckpointState& state);
  /// Averages the kept snapshots into averaged.pt and evaluates them; the model keeps its weights.
  void average_snapshots(TrainResult& result);
  std::string snapshot_dir() const;
  void log_step(int64_t epoch, double loss, double units_per_s, double eta_s);
  /// Prints a line through `print`, above the progress bar when one is shown.
  void say(const std::string& line);
  /// The progress bar's text after its figures: the last logged loss and the learning rate.
  std::string bar_tail() const;
  /// Writes a record to metrics.jsonl and hands it to on_record.
  void record(const std::string& event, const MetricsLog::Fields& fields);
  /// Prints the profile's table and writes it and its trace to out_dir (TrainerOptions::profile_step).
  void write_profile(const OpProfile& profile);
  /// Refuses to save (throws) when the model's weights hold an inf or NaN.
  void check_finite_weights(const std::string& path);

  TrainerOptions options_;
  Task& task_;
  torch::optim::Optimizer& optimizer_;
  LRScheduler& scheduler_;
  MetricsLog metrics_;
  std::unique_ptr<common::ProgressBar> bar_;  ///< this epoch's, when progress_bar is set
  std::optional<double> last_logged_loss_;    ///< of the last progress line
  int64_t step_ = 0;
  int64_t epoch_ = 0;
  int64_t next_batch_ = 0;  ///< batches of epoch_ already trained on (after a resume)
  std::optional<double> best_;
  int64_t best_epoch_ = 0;
  int64_t best_step_ = 0;
  int64_t evals_since_best_ = 0;
  int64_t last_eval_step_ = -1;
  int64_t last_save_step_ = -1;
  std::chrono::steady_clock::time_point last_save_time_ = std::chrono::steady_clock::now();
  // Running loss sums (device, double) and item counts of the epoch and of the progress window,
  // checkpointed so that a resumed run reports what an uninterrupted one would.
  torch::Tensor epoch_loss_, window_loss_;
  int64_t epoch_count_ = 0, window_count_ = 0;
  /// Loaded by resume(), applied when fit() starts.
  std::optional<CheckpointState> resumed_;
  GradScaler scaler_;
  std::unique_ptr<ModelEma> ema_;
  torch::Tensor step_loss_;    ///< summed loss of the current accumulation group (device)
  torch::Tensor last_grad_norm_;  ///< total gradient norm of the last step, before clipping (device)
  /// First recorded non-finite step (device, int64 [1], -1: none) and where each unchecked step was.
  torch::Tensor nonfinite_step_;
  struct StepPlace {
    int64_t step, epoch, batch;
  };
  std::vector<StepPlace> unchecked_steps_;
  int64_t skipped_ = 0;
  // Distributed runs.
  std::shared_ptr<ProcessGroup> group_;
  std::unique_ptr<DataParallel> data_parallel_;
  bool agreed_nonfinite_loss_ = false;  ///< some rank's loss of this step was inf or NaN
  int agreed_signal_ = 0;               ///< a signal some rank received
  bool agreed_clock_save_ = false;      ///< save_every_minutes is due on rank 0
  std::vector<torch::Tensor> rank_states_;  ///< every rank's random state, gathered for a save
  int64_t saved_world_size_ = 1;            ///< processes of the run that wrote the resumed checkpoint
  // Model FLOPs utilisation.
  double flops_per_unit_ = 0.0;  ///< matrix FLOPs of a step per unit (token, image) of its batches
  double ceiling_flops_ = 0.0;   ///< this machine's GEMM FLOP/s in the run's compute dtype (0: not measured)
};

}  // namespace torchzoo::train
