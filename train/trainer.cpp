#include "torchzoo/train/trainer.h"


#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/checkpoint_average.h"
#include "torchzoo/train/flop_counter.h"
#include "torchzoo/train/gemm_ceiling.h"
#include "torchzoo/train/op_profile.h"

namespace torchzoo::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, std::round(seconds)));
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

std::string format_metrics(const Metrics& metrics) {
  std::string text;
  for (const auto& [name, value] : metrics) {
    text += fmt::format("{}{} {:.4f}", text.empty() ? "" : " | ", name, value);
  }
  return text;
}

}  // namespace

std::vector<std::string> existing_run_files(const std::string& out_dir) {
  std::vector<std::string> names;
  if (out_dir.empty()) return names;
  for (const char* name : {"metrics.jsonl", "checkpoint.pt", "best.pt", "ema.pt", "averaged.pt", "snapshots",
                           "confusion_matrix.csv", "curves.png"}) {
    std::error_code error;
    if (std::filesystem::exists(std::filesystem::path(out_dir) / name, error)) names.emplace_back(name);
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(out_dir, error)) {  // TensorBoard's event files
    const auto name = entry.path().filename().string();
    if (name.rfind("events.out.tfevents.", 0) == 0) names.push_back(name);
  }
  return names;
}

Trainer::Trainer(TrainerOptions options, Task& task, torch::optim::Optimizer& optimizer, LRScheduler& scheduler)
    : print([](const std::string& line) { std::cerr << line << std::endl; }),
      options_(std::move(options)),
      task_(task),
      optimizer_(optimizer),
      scheduler_(scheduler),
      scaler_(options_.grad_scaler(), options_.device()),
      group_(options_.process_group()) {
  TORCHZOO_CHECK(options_.epochs() > 0, "Trainer: epochs must be positive, got {}", options_.epochs());
  TORCHZOO_CHECK(options_.accum_steps() > 0, "Trainer: accum_steps must be positive, got {}", options_.accum_steps());
  TORCHZOO_CHECK(options_.clip_grad_norm() >= 0, "Trainer: clip_grad_norm must be >= 0, got {}",
                 options_.clip_grad_norm());
  TORCHZOO_CHECK(options_.ema_decay() >= 0 && options_.ema_decay() < 1, "Trainer: ema_decay must be in [0, 1), got {}",
                 options_.ema_decay());
  if (!is_rank0()) print = [](const std::string&) {};
  if (!options_.out_dir().empty() && is_rank0()) {
    std::error_code error;
    std::filesystem::create_directories(options_.out_dir(), error);
    TORCHZOO_CHECK(!error && std::filesystem::is_directory(options_.out_dir()),
                   "Trainer: cannot use '{}' as the output folder: {}", options_.out_dir(),
                   error ? error.message() : "it is not a folder");
    if (const int removed = common::remove_stale_temporaries(options_.out_dir()); removed > 0) {
      say(fmt::format("removed {} temporary file{} that an interrupted run left in {}", removed,
                      removed == 1 ? "" : "s", options_.out_dir()));
    }
    metrics_ = MetricsLog(metrics_path());
  }
  task_.to(options_.device());
  if (group_) {  // rank 0's weights everywhere, then the gradient hooks
    data_parallel_ = std::make_unique<DataParallel>(*task_.module(), group_, options_.data_parallel());
  }
  if (options_.ema_decay() > 0) {
    ema_ = std::make_unique<ModelEma>(*task_.module(),
                                      ModelEmaOptions(options_.ema_decay()).warmup(options_.ema_warmup()));
  }
  nonfinite_step_ = torch::full({1}, -1, torch::TensorOptions().dtype(torch::kInt64).device(options_.device()));
}

std::string Trainer::best_checkpoint_path() const {
  return options_.out_dir().empty() || options_.keep_best().empty()
             ? ""
             : (std::filesystem::path(options_.out_dir()) / "best.pt").string();
}

std::string Trainer::metrics_path() const {
  return options_.out_dir().empty() ? "" : (std::filesystem::path(options_.out_dir()) / "metrics.jsonl").string();
}

std::string Trainer::checkpoint_path() const {
  return options_.out_dir().empty() ? "" : (std::filesystem::path(options_.out_dir()) / "checkpoint.pt").string();
}

std::string Trainer::ema_checkpoint_path() const {
  return options_.out_dir().empty() || !ema_ ? "" : (std::filesystem::path(options_.out_dir()) / "ema.pt").string();
}

std::vector<CheckpointPart> Trainer::checkpoint_parts() {
  std::vector<CheckpointPart> parts;
  if (scaler_.enabled()) {
    parts.push_back({"grad_scaler", [this](torch::serialize::OutputArchive& a) { scaler_.save(a); },
                     [this](torch::serialize::InputArchive& a) { scaler_.load(a); }});
  }
  if (ema_) {
    parts.push_back({"ema", [this](torch::serialize::OutputArchive& a) { ema_->save(a); },
                     [this](torch::serialize::InputArchive& a) { ema_->load(a); }});
  }
  if (group_) parts.push_back(distributed_part());
  return parts;
}

CheckpointPart Trainer::distributed_part() {
  // A rank the checkpoint has no state for (it was written by fewer processes) starts a stream of its
  // own: seeded from the rank and the seed of the restored rank-0 stream.
  const auto fresh_stream = [this] {
    auto generator = at::globalContext().defaultGenerator(torch::kCPU);
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_current_seed(rank_seed(generator.current_seed(), group_->rank()));
  };
  CheckpointPart part;
  part.name = "distributed";
  part.save = [this](torch::serialize::OutputArchive& archive) {
    archive.write("world_size", c10::IValue(group_->world_size()));
    for (size_t r = 0; r < rank_states_.size(); ++r) archive.write(fmt::format("rng_state_{}", r), rank_states_[r]);
  };
  part.load = [this, fresh_stream](torch::serialize::InputArchive& archive) {
    c10::IValue world;
    archive.read("world_size", world);
    TORCHZOO_CHECK(world.isInt() && world.toInt() > 0, "its world_size is not a positive integer");
    saved_world_size_ = world.toInt();
    if (!group_) return;  // one process resuming: rank 0's stream is the checkpoint's rng_state
    if (group_->rank() >= saved_world_size_) return fresh_stream();
    torch::Tensor state;
    archive.read(fmt::format("rng_state_{}", group_->rank()), state);
    set_generator_state(torch::kCPU, state);
  };
  part.optional = true;  // a checkpoint of one process
  part.load_absent = [this, fresh_stream] {
    saved_world_size_ = 1;
    if (group_ && group_->rank() > 0) fresh_stream();
  };
  return part;
}

void Trainer::resume(const std::string& checkpoint_path) {
  saved_world_size_ = 1;
  auto parts = checkpoint_parts();
  if (!group_) parts.push_back(distributed_part());  // read only: the number of processes that wrote it
  auto state = load_checkpoint(checkpoint_path, *task_.module(), &optimizer_, options_.device(), parts);
  const int64_t world = group_ ? group_->world_size() : 1;
  TORCHZOO_CHECK(state.batch == 0 || saved_world_size_ == world,
                 "--resume {}: this checkpoint was written within an epoch by a run of {} process{}; within an "
                 "epoch it resumes only with as many (the batches each rank trains on depend on it); this run has "
                 "{}. Resume with {} processes, or from a checkpoint written at the end of an epoch",
                 checkpoint_path, saved_world_size_, saved_world_size_ == 1 ? "" : "es", world, saved_world_size_);
  if (data_parallel_) {
    // The Reducer made before the load averaged no gradients after it (seen: a resumed run trained
    // each rank on its own gradients; Module::load swaps the parameters' storage with Tensor::set_).
    // It is made again on the loaded weights.
    data_parallel_ = std::make_unique<DataParallel>(*task_.module(), group_, options_.data_parallel());
  }
  step_ = state.step;
  epoch_ = state.epoch;
  next_batch_ = state.batch;
  best_ = state.best;
  best_epoch_ = state.best_epoch;
  best_step_ = state.best_step;
  evals_since_best_ = state.evals_since_best;
  last_eval_step_ = step_;
  last_save_step_ = step_;
  resumed_ = state;
  scheduler_.set_step(step_);
  if (metrics_.enabled()) {
    // What the interrupted run logged after its checkpoint is logged again from here.
    metrics_ = MetricsLog();
    MetricsLog::keep_until_step(metrics_path(), step_);
    metrics_ = MetricsLog(metrics_path());
  }
  say(fmt::format("resumed from {} at epoch {}, batch {}, step {}", checkpoint_path, epoch_ + 1, next_batch_, step_));
}

std::string Trainer::averaged_checkpoint_path() const {
  return options_.out_dir().empty() || options_.average_last() == 0
             ? ""
             : (std::filesystem::path(options_.out_dir()) / "averaged.pt").string();
}

std::string Trainer::snapshot_dir() const { return (std::filesystem::path(options_.out_dir()) / "snapshots").string(); }

namespace {

/// The error of a step whose loss or gradients were not finite.
std::string nonfinite_message(int64_t step, int64_t epoch, int64_t batch) {
  return fmt::format(
      "Trainer: the loss or the gradients of optimizer step {} (epoch {}, batch {}) hold inf or NaN; training "
      "stopped, nothing was saved from it. Lower the learning rate, clip gradients (train.clip_grad_norm), use "
      "autocast none, or set train.on_nonfinite: skip to skip such steps",
      step, epoch + 1, batch);
}

}  // namespace

bool Trainer::optimizer_step(int64_t batch) {
  auto module = task_.module();
  if (group_) agree_on_step();
  std::vector<torch::Tensor> grads;
  for (const auto& parameter : layers::unique_parameters(*module)) {
    if (parameter.grad().defined()) grads.push_back(parameter.grad());
  }
  scaler_.unscale_(optimizer_);  // true gradients from here on (nothing when the scaler is off)
  // The total norm and the clipping stay on the device, as torch.nn.utils.clip_grad_norm_.
  last_grad_norm_ = grads.empty() ? torch::zeros({}, torch::TensorOptions().device(options_.device()))
                                  : torch::linalg_vector_norm(torch::stack(torch::_foreach_norm(grads)));
  if (options_.clip_grad_norm() > 0 && !grads.empty()) {
    auto coefficient = (options_.clip_grad_norm() / (last_grad_norm_ + 1e-6)).clamp_max(1.0);
    torch::_foreach_mul_(grads, coefficient);
  }
  // Distributed: the gradients are averaged, so alike everywhere, but each rank has its own loss.
  const auto bool_on_device = torch::TensorOptions().dtype(torch::kBool).device(options_.device());
  const auto nonfinite = last_grad_norm_.isfinite().logical_not().logical_or(
      group_ ? torch::full({}, agreed_nonfinite_loss_, bool_on_device) : step_loss_.isfinite().logical_not());

  bool stepped = true;
  std::string skip_reason;
  if (scaler_.enabled()) {
    const double scale = scaler_.get_scale();
    stepped = scaler_.step(optimizer_);
    scaler_.update();
    if (!stepped) skip_reason = fmt::format("inf/NaN gradients at loss scale {}", scale);
  } else if (options_.skip_nonfinite()) {
    stepped = !nonfinite.item<bool>();
    if (stepped) optimizer_.step();
    if (!stepped) skip_reason = "inf/NaN loss or gradients";
  } else if (!options_.device().is_cuda()) {
    // Reading the flag costs nothing on the CPU: stop before the bad step touches the weights.
    TORCHZOO_CHECK(!nonfinite.item<bool>(), nonfinite_message(step_ + 1, epoch_, batch));
    optimizer_.step();
  } else {
    // Recorded on the device; check_finite_steps reads it at the next progress line or save.
    const auto index = static_cast<int64_t>(unchecked_steps_.size());
    nonfinite_step_ = torch::where(nonfinite.logical_and(nonfinite_step_.lt(0)), index, nonfinite_step_);
    unchecked_steps_.push_back({step_ + 1, epoch_, batch});
    optimizer_.step();
  }
  optimizer_.zero_grad();
  if (!stepped) {
    ++skipped_;
    record("skip", {{"epoch", epoch_ + 1}, {"step", step_}, {"batch", batch}, {"reason", skip_reason}});
    if (!scaler_.enabled()) {
      say(fmt::format("skipped a step after step {} (epoch {}, batch {}): {}", step_, epoch_ + 1, batch, skip_reason));
    }
    return false;
  }
  ++step_;
  scheduler_.step();
  if (ema_) ema_->update(*module);
  return true;
}

void Trainer::agree_on_step() {
  const int signal = options_.interrupted() ? options_.interrupted()() : 0;
  const bool clock = is_rank0() && options_.save_every_minutes() > 0 &&
                     seconds_since(last_save_time_) >= options_.save_every_minutes() * 60.0;
  auto flags = torch::tensor({0.0, static_cast<double>(signal), clock ? 1.0 : 0.0}, torch::kFloat64)
                   .to(options_.device());
  flags.narrow(0, 0, 1).copy_(step_loss_.isfinite().logical_not().reshape({1}));
  group_->all_reduce_max(flags);
  const auto agreed = flags.to(torch::kCPU);
  agreed_nonfinite_loss_ = agreed[0].item<double>() > 0;
  agreed_signal_ = static_cast<int>(agreed[1].item<double>());
  agreed_clock_save_ = agreed[2].item<double>() > 0;
}

int64_t Trainer::global_batch(int64_t index, int64_t batches) const {
  if (!group_) return index;
  return (index * group_->world_size() + group_->rank()) % batches;  // the last round wraps, as DistributedSampler
}

Trainer::Totals Trainer::totals(const torch::Tensor& sum, int64_t count, int64_t units) {
  if (!group_) return {sum.item<double>(), count, units};
  auto values = torch::stack({sum.to(torch::kFloat64).reshape({}),
                              torch::tensor(static_cast<double>(count), torch::kFloat64).to(sum.device()),
                              torch::tensor(static_cast<double>(units), torch::kFloat64).to(sum.device())});
  group_->all_reduce_sum(values);
  const auto host = values.to(torch::kCPU);
  return {host[0].item<double>(), static_cast<int64_t>(host[1].item<double>()),
          static_cast<int64_t>(host[2].item<double>())};
}

void Trainer::check_finite_steps() {
  if (unchecked_steps_.empty()) return;
  const auto index = nonfinite_step_.item<int64_t>();
  if (index >= 0) {
    const auto place = unchecked_steps_.at(static_cast<size_t>(index));
    TORCHZOO_CHECK(false, nonfinite_message(place.step, place.epoch, place.batch));
  }
  unchecked_steps_.clear();
}

void Trainer::check_finite_weights(const std::string& path) {
  std::vector<torch::Tensor> tensors;
  for (const auto& tensor : state_tensors(*task_.module())) {
    if (tensor.is_floating_point()) tensors.push_back(tensor.detach());
  }
  if (tensors.empty()) return;
  const bool finite = torch::linalg_vector_norm(torch::stack(torch::_foreach_norm(tensors))).isfinite().item<bool>();
  TORCHZOO_CHECK(finite,
                 "Trainer: at step {} the model's weights hold inf or NaN; not saving {} (it keeps the last good "
                 "weights)",
                 step_, path);
}

namespace {
/// Sets the process-wide linear kernel for a scope, and puts the previous one back.
class LinearKernelScope {
 public:
  explicit LinearKernelScope(layers::LinearKernel kernel) : previous_(layers::linear_kernel()) {
    layers::set_linear_kernel(kernel);
  }
  ~LinearKernelScope() { layers::set_linear_kernel(previous_); }
  LinearKernelScope(const LinearKernelScope&) = delete;
  LinearKernelScope& operator=(const LinearKernelScope&) = delete;

 private:
  layers::LinearKernel previous_;
};
}  // namespace

TrainResult Trainer::fit() {
  const auto start = Clock::now();
  LinearKernelScope linear_kernel(options_.linear_kernel());
  const int64_t task_batches = task_.batches_per_epoch();
  TORCHZOO_CHECK(task_batches > 0, "Trainer: the task has no training batches");
  const int64_t world = group_ ? group_->world_size() : 1;
  TORCHZOO_CHECK(task_batches >= world, "Trainer: {} training batches per epoch cannot be shared by {} processes",
                 task_batches, world);
  const int64_t batches = (task_batches + world - 1) / world;  // this rank's
  const int64_t accum = options_.accum_steps();
  const int64_t steps_per_epoch = (batches + accum - 1) / accum;
  int64_t planned_steps = options_.epochs() * steps_per_epoch;
  if (options_.max_steps() > 0) planned_steps = std::min(planned_steps, options_.max_steps());
  const int64_t first_step = step_;
  const auto reached_max_steps = [&] { return options_.max_steps() > 0 && step_ >= options_.max_steps(); };
  // Losses add up on the device (double), read only for progress lines and evaluations.
  const auto on_device = torch::TensorOptions().dtype(torch::kFloat64).device(options_.device());
  const auto zero = [&] { return torch::zeros({}, on_device); };

  TrainResult result;
  auto module = task_.module();
  bool stop = false;
  const auto interrupted = [&] {
    if (group_) return agreed_signal_;  // polled by every rank, agreed on in the step
    return options_.interrupted() ? options_.interrupted()() : 0;
  };
  if (options_.report_mfu() && options_.log_every() > 0 && is_rank0()) {
    ceiling_flops_ = gemm_ceiling(options_.device(), options_.autocast().value_or(torch::kFloat32)).flops_per_s;
  }
  last_save_time_ = Clock::now();
  for (; epoch_ < options_.epochs() && !reached_max_steps() && !stop; ++epoch_) {
    module->train();
    optimizer_.zero_grad();
    epoch_loss_ = zero();  // two tensors: they are added to in place
    window_loss_ = zero();
    epoch_count_ = window_count_ = 0;
    if (resumed_ && is_rank0()) {  // the sums of the epoch the checkpoint was written in (the run's, on rank 0)
      epoch_loss_ += resumed_->epoch_loss;
      window_loss_ += resumed_->window_loss;
      epoch_count_ = resumed_->epoch_items;
      window_count_ = resumed_->window_items;
    }
    resumed_.reset();
    step_loss_ = zero();
    int64_t window_units = 0, group_count = 0, group_units = 0;
    std::optional<FlopCounter> flop_counter;
    OpProfiler profiler;
    auto window_start = Clock::now();
    int64_t next_batch = std::exchange(next_batch_, 0);
    if (options_.progress_bar() && is_rank0()) {
      bar_ = std::make_unique<common::ProgressBar>(fmt::format("epoch {}/{}", epoch_ + 1, options_.epochs()),
                                                   steps_per_epoch, "step");
      bar_->update(next_batch / accum, bar_tail());
    }
    for (int64_t i = next_batch; i < batches && !reached_max_steps() && !stop; ++i) {
      next_batch = i + 1;
      const int64_t group_start = (i / accum) * accum;
      const int64_t group_size = std::min(accum, batches - group_start);
      const bool last_of_group = i + 1 - group_start == group_size;
      const int64_t task_batch = global_batch(i, task_batches);
      if (data_parallel_) data_parallel_->before_forward(/*sync=*/last_of_group);
      // The first step's matrix FLOPs, per unit of its batches, give every later step's.
      if (ceiling_flops_ > 0 && flops_per_unit_ == 0 && i == group_start) flop_counter.emplace();
      if (step_ + 1 == options_.profile_step() && i == group_start && is_rank0()) profiler.start();
      BatchLoss batch;
      {
        AutocastGuard autocast(options_.device(), options_.autocast());
        batch = task_.train_loss(epoch_, task_batch);
      }
      TORCHZOO_CHECK(batch.count > 0, "Trainer: training batch {} of epoch {} has nothing to learn from", task_batch,
                     epoch_);
      auto loss = scaler_.scale(batch.loss / static_cast<double>(batch.count) / static_cast<double>(group_size));
      if (data_parallel_) {
        data_parallel_->before_backward(loss);
        group_->guarded("backward with the gradient all-reduce", [&] { loss.backward(); });
      } else {
        loss.backward();
      }
      step_loss_ += batch.loss.detach().to(torch::kFloat64);
      group_count += batch.count;
      group_units += batch.units;
      if (!last_of_group) continue;
      if (flop_counter) {
        const auto units = static_cast<double>(std::max<int64_t>(group_units, 1));
        flops_per_unit_ = static_cast<double>(flop_counter->flops()) / units;
        flop_counter.reset();
      }

      const bool stepped = optimizer_step(task_batch);
      if (profiler.running()) write_profile(profiler.stop());
      if (stepped) {  // a skipped step's loss is not the model's
        epoch_loss_ += step_loss_;
        window_loss_ += step_loss_;
        epoch_count_ += group_count;
        window_count_ += group_count;
      }
      window_units += group_units;
      step_loss_ = zero();
      group_count = group_units = 0;
      if (!stepped) {
        if ((result.interrupted_by = interrupted()) != 0) break;
        continue;
      }
      const bool log_now = options_.log_every() > 0 && step_ % options_.log_every() == 0;
      if (log_now) {
        check_finite_steps();
        const double elapsed = seconds_since(start);
        const double window_seconds = seconds_since(window_start);
        const double eta =
            elapsed / static_cast<double>(step_ - first_step) * static_cast<double>(planned_steps - step_);
        const auto window = totals(window_loss_, window_count_, window_units);  // summed over the ranks
        log_step(epoch_, window.per_item(), static_cast<double>(window.units) / window_seconds, eta);
        window_loss_ = zero();
        window_count_ = window_units = 0;
        window_start = Clock::now();
      }
      if (bar_) bar_->update(i / accum + 1, bar_tail());  // after the progress line: its loss shows
      if (options_.eval_every() > 0 && step_ % options_.eval_every() == 0 && next_batch < batches) {
        stop = evaluate_and_save(epoch_, next_batch, totals(epoch_loss_, epoch_count_).per_item(), result);
        module->train();
      }
      if (next_batch < batches && save_due() && !options_.out_dir().empty()) {
        save_position(epoch_, next_batch, /*improved=*/false);
        record("save", {{"epoch", epoch_ + 1}, {"step", step_}, {"batch", next_batch}});
      }
      if ((result.interrupted_by = interrupted()) != 0) break;  // the step is logged; saved below
    }
    bar_.reset();  // ends the bar's line: the evaluation's lines follow
    if (const auto epoch = totals(epoch_loss_, epoch_count_); epoch.count > 0) {
      result.train_loss = epoch.per_item();
    }
    if (result.interrupted_by != 0) {
      // Finished the step; the checkpoint resumes at the next batch (at the epoch's evaluation
      // when it was the last one).
      check_finite_steps();
      if (!options_.out_dir().empty()) {
        save_position(epoch_, next_batch, /*improved=*/false);
        record("interrupted", {{"epoch", epoch_ + 1},
                               {"step", step_},
                               {"batch", next_batch},
                               {"signal", static_cast<int64_t>(result.interrupted_by)}});
      }
      break;
    }
    if (stop) break;  // early stopping evaluated and saved already
    if (next_batch == batches) {
      stop = evaluate_and_save(epoch_ + 1, 0, result.train_loss, result);
    } else if (last_eval_step_ != step_) {
      evaluate_and_save(epoch_, next_batch, result.train_loss, result);  // max_steps within an epoch
    }
  }
  check_finite_steps();
  const bool finished = result.interrupted_by == 0;
  const bool writes = is_rank0() && !options_.out_dir().empty();
  if (finished && writes) task_.write_report(options_.out_dir());
  if (finished && writes && options_.average_last() > 0) average_snapshots(result);
  if (data_parallel_) {
    result.data_parallel = data_parallel_->stats();
    const auto& stats = *result.data_parallel;
    record("data_parallel", {{"step", step_},
                             {"world_size", group_->world_size()},
                             {"backend", group_->backend()},
                             {"buckets", stats.buckets},
                             {"gradient_bytes", stats.gradient_bytes},
                             {"sampled_steps", stats.sampled_steps},
                             {"backward_compute_us", stats.backward_compute_us},
                             {"backward_comm_us", stats.backward_comm_us},
                             {"overlap_us", stats.overlap_us}});
  }
  result.best = best_;
  result.best_epoch = best_epoch_;
  result.best_step = best_step_;
  result.stopped_early = stop;
  result.steps = step_;
  result.epochs = epoch_;
  result.skipped_steps = skipped_;
  result.seconds = seconds_since(start);
  return result;
}

Metrics Trainer::evaluate_now(bool here_only) {
  auto module = task_.module();
  module->eval();
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(options_.device(), options_.autocast());
  if (!group_ || here_only) return task_.evaluate();
  // Rank 0 evaluates; the others wait for its figures, so that every rank decides alike (best, patience).
  std::string text;
  if (is_rank0()) {
    for (const auto& [name, value] : task_.evaluate()) text += fmt::format("{}\t{:.17g}\n", name, value);
  }
  text = group_->broadcast_text(text, 0);
  Metrics metrics;
  for (size_t start = 0; start < text.size();) {
    const size_t tab = text.find('\t', start), end = text.find('\n', start);
    metrics[text.substr(start, tab - start)] = std::strtod(text.c_str() + tab + 1, nullptr);
    start = end + 1;
  }
  return metrics;
}

bool Trainer::evaluate_and_save(int64_t epochs_done, int64_t next_batch, double train_loss, TrainResult& result) {
  check_finite_steps();
  auto module = task_.module();
  result.eval = evaluate_now();
  if (ema_) {
    ema_->swap(*module);
    result.ema_eval = evaluate_now();
    ema_->swap(*module);
  }
  last_eval_step_ = step_;
  const int64_t epoch = next_batch == 0 ? epochs_done : epochs_done + 1;  // 1-based epoch of this evaluation
  const bool improved = update_best(result.eval, epoch);
  evals_since_best_ = improved ? 0 : evals_since_best_ + 1;
  const bool stop = options_.patience() > 0 && evals_since_best_ >= options_.patience();

  const auto where = next_batch == 0 ? fmt::format("epoch {}/{} done", epochs_done, options_.epochs())
                                     : fmt::format("epoch {}/{} step {}", epoch, options_.epochs(), step_);
  say(fmt::format("{} | train loss {:.4f} | valid {}{}", where, train_loss, format_metrics(result.eval),
                  improved ? " | new best" : ""));
  if (ema_) say(fmt::format("{} | ema valid {}", where, format_metrics(result.ema_eval)));
  MetricsLog::Fields fields{{"epoch", epoch}, {"step", step_}, {"train_loss", train_loss}};
  for (const auto& [name, value] : result.eval) fields.emplace_back("valid_" + name, value);
  for (const auto& [name, value] : result.ema_eval) fields.emplace_back("ema_valid_" + name, value);
  if (skipped_ > 0) fields.emplace_back("skipped_steps", skipped_);
  record(next_batch == 0 ? "epoch" : "eval", fields);
  if (stop) {
    say(fmt::format("early stopping: no better {} than {:.4f} (step {}) in {} evaluations", options_.keep_best(),
                    *best_, best_step_, evals_since_best_));
  }

  if (!options_.out_dir().empty()) save_position(epochs_done, next_batch, improved);  // every rank: it gathers
  return stop;
}

bool Trainer::save_due() const {
  if (last_save_step_ == step_) return false;
  if (options_.save_every_steps() > 0 && step_ % options_.save_every_steps() == 0) return true;
  if (group_) return agreed_clock_save_;  // rank 0's clock
  return options_.save_every_minutes() > 0 &&
         seconds_since(last_save_time_) >= options_.save_every_minutes() * 60.0;
}

void Trainer::save_position(int64_t epochs_done, int64_t next_batch, bool improved) {
  auto module = task_.module();
  check_finite_weights(checkpoint_path());
  CheckpointState state;
  state.step = step_;
  state.epoch = epochs_done;
  state.config = options_.config_text();
  state.resolved_config = options_.resolved_config_text();
  state.best = best_;
  state.best_epoch = best_epoch_;
  state.batch = next_batch;
  state.best_step = best_step_;
  state.evals_since_best = evals_since_best_;
  if (next_batch != 0) {  // within an epoch: the loss sums so far (of all ranks)
    const auto epoch = totals(epoch_loss_, epoch_count_);
    const auto window = totals(window_loss_, window_count_);
    state.epoch_loss = epoch.loss;
    state.epoch_items = epoch.count;
    state.window_loss = window.loss;
    state.window_items = window.count;
  }
  if (group_) {
    rank_states_.clear();
    for (const auto& rank_state : group_->all_gather(generator_state(torch::kCPU).to(options_.device()))) {
      rank_states_.push_back(rank_state.to(torch::kCPU));
    }
  }
  if (!is_rank0()) {
    last_save_step_ = step_;
    last_save_time_ = Clock::now();
    return;
  }
  const auto parts = checkpoint_parts();
  save_checkpoint(checkpoint_path(), *module, &optimizer_, state, parts);
  if (improved) save_checkpoint(best_checkpoint_path(), *module, &optimizer_, state, parts);
  if (options_.average_last() > 0 && last_eval_step_ == step_) save_snapshot(state);  // evaluations only
  if (ema_) {
    ema_->swap(*module);
    save_checkpoint(ema_checkpoint_path(), *module, nullptr, state);  // weights only: for eval, export, decoding
    ema_->swap(*module);
  }
  last_save_step_ = step_;
  last_save_time_ = Clock::now();
}

bool Trainer::update_best(const Metrics& eval, int64_t epoch) {
  const auto& name = options_.keep_best();
  if (name.empty()) return false;
  auto it = eval.find(name);
  TORCHZOO_CHECK(it != eval.end(), "Trainer: keep_best names '{}', which the evaluation does not report", name);
  const double value = it->second;
  const bool better = !best_ || (options_.keep_best_max() ? value > *best_ : value < *best_);
  if (better) {
    best_ = value;
    best_epoch_ = epoch;
    best_step_ = step_;
  }
  return better;
}

namespace {

/// Snapshot files in `dir` (step_<N>.pt with zero-padded N), oldest first.
std::vector<std::filesystem::path> list_snapshots(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && entry.path().extension() == ".pt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

void Trainer::save_snapshot(const CheckpointState& state) {
  const auto path = std::filesystem::path(snapshot_dir()) / fmt::format("step_{:010}.pt", state.step);
  // Snapshots later than this step were left by a run this one resumed from an earlier point.
  for (const auto& file : list_snapshots(snapshot_dir())) {
    if (file.filename() > path.filename()) std::filesystem::remove(file);
  }
  save_checkpoint(path.string(), *task_.module(), nullptr, state);
  const auto files = list_snapshots(snapshot_dir());
  const auto keep = static_cast<size_t>(options_.average_last());
  for (size_t i = 0; i + keep < files.size(); ++i) std::filesystem::remove(files[i]);
}

void Trainer::average_snapshots(TrainResult& result) {
  std::vector<std::string> paths;
  for (const auto& file : list_snapshots(snapshot_dir())) paths.push_back(file.string());
  if (paths.empty()) return;
  auto module = task_.module();
  // The model ends training with its final weights: evaluate the average, then put them back.
  std::vector<torch::Tensor> final_weights;
  for (const auto& tensor : state_tensors(*module)) final_weights.push_back(tensor.detach().clone());
  average_checkpoints(paths, *module, averaged_checkpoint_path(), options_.device());
  result.averaged_eval = evaluate_now(/*here_only=*/true);
  say(fmt::format("averaged the weights of the last {} evaluations into {} | valid {}", paths.size(),
                  averaged_checkpoint_path(), format_metrics(result.averaged_eval)));
  MetricsLog::Fields fields{{"step", step_}, {"checkpoints", static_cast<int64_t>(paths.size())}};
  for (const auto& [name, value] : result.averaged_eval) fields.emplace_back("valid_" + name, value);
  record("averaged", fields);
  torch::NoGradGuard no_grad;
  auto tensors = state_tensors(*module);
  for (size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(final_weights[i]);
}

void Trainer::write_profile(const OpProfile& profile) {
  constexpr size_t kRows = 30;
  const auto table = fmt::format("profile of optimizer step {} (forward, backward, optimizer), by self time:\n{}",
                                 step_, profile.table(kRows));
  say(table);
  if (options_.out_dir().empty()) return;
  const auto dir = std::filesystem::path(options_.out_dir());
  common::write_file_atomically((dir / "profile.txt").string(), table, "profile table");
  profile.save_trace((dir / "profile_trace.json").string());
  record("profile", {{"step", step_},
                     {"wall_ms", profile.wall_us() / 1e3},
                     {"self_ms", profile.self_us_total() / 1e3},
                     {"table", "profile.txt"},
                     {"trace", "profile_trace.json"}});
}

void Trainer::say(const std::string& line) {
  if (bar_) {
    bar_->print_line(line, print);
  } else {
    print(line);
  }
}

std::string Trainer::bar_tail() const {
  const std::string lr = fmt::format("lr {:.2e}", scheduler_.current_lr());
  return last_logged_loss_ ? fmt::format("loss {:.4f} | {}", *last_logged_loss_, lr) : lr;
}

void Trainer::record(const std::string& event, const MetricsLog::Fields& fields) {
  metrics_.write(event, fields);
  if (on_record && is_rank0()) on_record(event, fields);
}

void Trainer::log_step(int64_t epoch, double loss, double units_per_s, double eta_s) {
  const double grad_norm = last_grad_norm_.defined() ? last_grad_norm_.item<double>() : 0.0;
  std::string scaling;
  last_logged_loss_ = loss;
  MetricsLog::Fields fields{{"epoch", epoch + 1},
                            {"step", step_},
                            {"loss", loss},
                            {"lr", scheduler_.current_lr()},
                            {"grad_norm", grad_norm},
                            {task_.unit() + "_per_s", units_per_s}};
  std::string utilisation;
  if (ceiling_flops_ > 0 && flops_per_unit_ > 0) {
    const double model_flops = flops_per_unit_ * units_per_s;  // all ranks' units
    const double mfu = model_flops / (ceiling_flops_ * static_cast<double>(group_ ? group_->world_size() : 1));
    utilisation = fmt::format(" | {:.1f} GFLOP/s, MFU {:.0f}%", model_flops / 1e9, 100.0 * mfu);
    fields.emplace_back("model_flops_per_s", model_flops);
    fields.emplace_back("mfu", mfu);
  }
  if (scaler_.enabled()) {
    const double scale = scaler_.get_scale();
    scaling = fmt::format(" | loss scale {:g} | skipped {}", scale, skipped_);
    fields.emplace_back("loss_scale", scale);
    fields.emplace_back("skipped_steps", skipped_);
  }
  say(fmt::format("epoch {}/{} step {} | loss {:.4f} | lr {:.3e} | grad norm {:.3g}{} | {:.0f} {}/s{} | eta {}",
                  epoch + 1, options_.epochs(), step_, loss, scheduler_.current_lr(), grad_norm, scaling, units_per_s,
                  task_.unit(), utilisation, format_duration(eta_s)));
  record("step", fields);
}

}  // namespace torchzoo::train
