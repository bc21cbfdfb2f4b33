#include "torchzoo/train/trainer.h"

#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/checkpoint_average.h"

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

Trainer::Trainer(TrainerOptions options, Task& task, torch::optim::Optimizer& optimizer, LRScheduler& scheduler)
    : print([](const std::string& line) { std::cerr << line << std::endl; }),
      options_(std::move(options)),
      task_(task),
      optimizer_(optimizer),
      scheduler_(scheduler) {
  TORCHZOO_CHECK(options_.epochs() > 0, "Trainer: epochs must be positive, got {}", options_.epochs());
  TORCHZOO_CHECK(options_.accum_steps() > 0, "Trainer: accum_steps must be positive, got {}", options_.accum_steps());
  TORCHZOO_CHECK(options_.clip_grad_norm() >= 0, "Trainer: clip_grad_norm must be >= 0, got {}",
                 options_.clip_grad_norm());
  if (!options_.out_dir().empty()) {
    std::filesystem::create_directories(options_.out_dir());
    metrics_ = MetricsLog((std::filesystem::path(options_.out_dir()) / "metrics.jsonl").string());
  }
  task_.to(options_.device());
}

std::string Trainer::best_checkpoint_path() const {
  return options_.out_dir().empty() || options_.keep_best().empty()
             ? ""
             : (std::filesystem::path(options_.out_dir()) / "best.pt").string();
}

std::string Trainer::checkpoint_path() const {
  return options_.out_dir().empty() ? "" : (std::filesystem::path(options_.out_dir()) / "checkpoint.pt").string();
}

void Trainer::resume(const std::string& checkpoint_path) {
  auto state = load_checkpoint(checkpoint_path, *task_.module(), &optimizer_, options_.device());
  step_ = state.step;
  epoch_ = state.epoch;
  next_batch_ = state.batch;
  best_ = state.best;
  best_epoch_ = state.best_epoch;
  best_step_ = state.best_step;
  evals_since_best_ = state.evals_since_best;
  last_eval_step_ = step_;
  scheduler_.set_step(step_);
  print(fmt::format("resumed from {} at epoch {}, batch {}, step {}", checkpoint_path, epoch_ + 1, next_batch_, step_));
}

std::string Trainer::averaged_checkpoint_path() const {
  return options_.out_dir().empty() || options_.average_last() == 0
             ? ""
             : (std::filesystem::path(options_.out_dir()) / "averaged.pt").string();
}

std::string Trainer::snapshot_dir() const { return (std::filesystem::path(options_.out_dir()) / "snapshots").string(); }

void Trainer::optimizer_step() {
  if (options_.clip_grad_norm() > 0) {
    torch::nn::utils::clip_grad_norm_(layers::unique_parameters(*task_.module()), options_.clip_grad_norm());
  }
  optimizer_.step();
  optimizer_.zero_grad();
  ++step_;
  scheduler_.step();
}

TrainResult Trainer::fit() {
  const auto start = Clock::now();
  const int64_t batches = task_.batches_per_epoch();
  TORCHZOO_CHECK(batches > 0, "Trainer: the task has no training batches");
  const int64_t accum = options_.accum_steps();
  const int64_t steps_per_epoch = (batches + accum - 1) / accum;
  int64_t planned_steps = options_.epochs() * steps_per_epoch;
  if (options_.max_steps() > 0) planned_steps = std::min(planned_steps, options_.max_steps());
  const int64_t first_step = step_;
  const auto reached_max_steps = [&] { return options_.max_steps() > 0 && step_ >= options_.max_steps(); };

  TrainResult result;
  auto module = task_.module();
  bool stop = false;
  double epoch_loss = 0.0;
  int64_t epoch_count = 0;
  for (; epoch_ < options_.epochs() && !reached_max_steps() && !stop; ++epoch_) {
    module->train();
    optimizer_.zero_grad();
    epoch_loss = 0.0;
    epoch_count = 0;
    double window_loss = 0.0;
    int64_t window_count = 0, window_units = 0;
    auto window_start = Clock::now();
    int64_t next_batch = std::exchange(next_batch_, 0);
    for (int64_t i = next_batch; i < batches && !reached_max_steps() && !stop; ++i) {
      next_batch = i + 1;
      const int64_t group_start = (i / accum) * accum;
      const int64_t group_size = std::min(accum, batches - group_start);
      BatchLoss batch;
      {
        AutocastGuard autocast(options_.device(), options_.autocast());
        batch = task_.train_loss(epoch_, i);
      }
      TORCHZOO_CHECK(batch.count > 0, "Trainer: training batch {} of epoch {} has nothing to learn from", i, epoch_);
      (batch.loss / static_cast<double>(batch.count) / static_cast<double>(group_size)).backward();
      const double loss_sum = batch.loss.item<double>();
      epoch_loss += loss_sum;
      epoch_count += batch.count;
      window_loss += loss_sum;
      window_count += batch.count;
      window_units += batch.units;
      if (i + 1 - group_start < group_size) continue;

      optimizer_step();
      const bool log_now = options_.log_every() > 0 && step_ % options_.log_every() == 0;
      if (log_now) {
        const double elapsed = seconds_since(start);
        const double window_seconds = seconds_since(window_start);
        const double eta =
            elapsed / static_cast<double>(step_ - first_step) * static_cast<double>(planned_steps - step_);
        log_step(epoch_, window_loss / window_count, window_units / window_seconds, eta);
        window_loss = 0.0;
        window_count = window_units = 0;
        window_start = Clock::now();
      }
      if (options_.eval_every() > 0 && step_ % options_.eval_every() == 0 && next_batch < batches) {
        stop = evaluate_and_save(epoch_, next_batch, epoch_loss / static_cast<double>(epoch_count), result);
        module->train();
      }
    }
    result.train_loss = epoch_count > 0 ? epoch_loss / epoch_count : result.train_loss;
    if (stop) break;  // early stopping evaluated and saved already
    if (next_batch == batches) {
      stop = evaluate_and_save(epoch_ + 1, 0, result.train_loss, result);
    } else if (last_eval_step_ != step_) {
      evaluate_and_save(epoch_, next_batch, result.train_loss, result);  // max_steps within an epoch
    }
  }
  if (!options_.out_dir().empty()) task_.write_report(options_.out_dir());
  if (options_.average_last() > 0 && !options_.out_dir().empty()) average_snapshots(result);
  result.best = best_;
  result.best_epoch = best_epoch_;
  result.best_step = best_step_;
  result.stopped_early = stop;
  result.steps = step_;
  result.epochs = epoch_;
  result.seconds = seconds_since(start);
  return result;
}

bool Trainer::evaluate_and_save(int64_t epochs_done, int64_t next_batch, double train_loss, TrainResult& result) {
  auto module = task_.module();
  module->eval();
  {
    torch::NoGradGuard no_grad;
    AutocastGuard autocast(options_.device(), options_.autocast());
    result.eval = task_.evaluate();
  }
  last_eval_step_ = step_;
  const int64_t epoch = next_batch == 0 ? epochs_done : epochs_done + 1;  // 1-based epoch of this evaluation
  const bool improved = update_best(result.eval, epoch);
  evals_since_best_ = improved ? 0 : evals_since_best_ + 1;
  const bool stop = options_.patience() > 0 && evals_since_best_ >= options_.patience();

  const auto where = next_batch == 0 ? fmt::format("epoch {}/{} done", epochs_done, options_.epochs())
                                     : fmt::format("epoch {}/{} step {}", epoch, options_.epochs(), step_);
  print(fmt::format("{} | train loss {:.4f} | valid {}{}", where, train_loss, format_metrics(result.eval),
                    improved ? " | new best" : ""));
  MetricsLog::Fields fields{{"epoch", epoch}, {"step", step_}, {"train_loss", train_loss}};
  for (const auto& [name, value] : result.eval) fields.emplace_back("valid_" + name, value);
  metrics_.write(next_batch == 0 ? "epoch" : "eval", fields);
  if (stop) {
    print(fmt::format("early stopping: no better {} than {:.4f} (step {}) in {} evaluations", options_.keep_best(),
                      *best_, best_step_, evals_since_best_));
  }

  if (!options_.out_dir().empty()) {
    CheckpointState state{step_, epochs_done, options_.config_text(), best_, best_epoch_};
    state.batch = next_batch;
    state.best_step = best_step_;
    state.evals_since_best = evals_since_best_;
    save_checkpoint(checkpoint_path(), *module, &optimizer_, state);
    if (improved) save_checkpoint(best_checkpoint_path(), *module, &optimizer_, state);
    if (options_.average_last() > 0) save_snapshot(state);
  }
  return stop;
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
  module->eval();
  {
    torch::NoGradGuard no_grad;
    AutocastGuard autocast(options_.device(), options_.autocast());
    result.averaged_eval = task_.evaluate();
  }
  print(fmt::format("averaged the weights of the last {} evaluations into {} | valid {}", paths.size(),
                    averaged_checkpoint_path(), format_metrics(result.averaged_eval)));
  MetricsLog::Fields fields{{"step", step_}, {"checkpoints", static_cast<int64_t>(paths.size())}};
  for (const auto& [name, value] : result.averaged_eval) fields.emplace_back("valid_" + name, value);
  metrics_.write("averaged", fields);
  torch::NoGradGuard no_grad;
  auto tensors = state_tensors(*module);
  for (size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(final_weights[i]);
}

void Trainer::log_step(int64_t epoch, double loss, double units_per_s, double eta_s) {
  print(fmt::format("epoch {}/{} step {} | loss {:.4f} | lr {:.3e} | {:.0f} {}/s | eta {}", epoch + 1,
                    options_.epochs(), step_, loss, scheduler_.current_lr(), units_per_s, task_.unit(),
                    format_duration(eta_s)));
  metrics_.write("step", {{"epoch", epoch + 1},
                          {"step", step_},
                          {"loss", loss},
                          {"lr", scheduler_.current_lr()},
                          {task_.unit() + "_per_s", units_per_s}});
}

}  // namespace torchzoo::train
