#include "torchzoo/train/trainer.h"

#include <torch/nn/utils/clip_grad.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "torchzoo/layers/detail/check.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/checkpoint.h"

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
  best_ = state.best;
  best_epoch_ = state.best_epoch;
  scheduler_.set_step(step_);
  print(fmt::format("resumed from {} at epoch {}, step {}", checkpoint_path, epoch_, step_));
}

void Trainer::optimizer_step() {
  if (options_.clip_grad_norm() > 0) {
    torch::nn::utils::clip_grad_norm_(task_.module()->parameters(), options_.clip_grad_norm());
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
  for (; epoch_ < options_.epochs() && !reached_max_steps(); ++epoch_) {
    module->train();
    optimizer_.zero_grad();
    double epoch_loss = 0.0, window_loss = 0.0;
    int64_t epoch_count = 0, window_count = 0, window_units = 0;
    auto window_start = Clock::now();
    for (int64_t i = 0; i < batches && !reached_max_steps(); ++i) {
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
    }
    result.train_loss = epoch_count > 0 ? epoch_loss / epoch_count : 0.0;

    module->eval();
    {
      torch::NoGradGuard no_grad;
      AutocastGuard autocast(options_.device(), options_.autocast());
      result.eval = task_.evaluate();
    }
    const bool improved = update_best(result.eval, epoch_ + 1);
    print(fmt::format("epoch {}/{} done | train loss {:.4f} | valid {} | {} elapsed", epoch_ + 1, options_.epochs(),
                      result.train_loss, format_metrics(result.eval), format_duration(seconds_since(start))));
    MetricsLog::Fields fields{{"epoch", epoch_ + 1}, {"step", step_}, {"train_loss", result.train_loss}};
    for (const auto& [name, value] : result.eval) fields.emplace_back("valid_" + name, value);
    metrics_.write("epoch", fields);
    if (!options_.out_dir().empty()) {
      const CheckpointState state{step_, epoch_ + 1, options_.config_text(), best_, best_epoch_};
      save_checkpoint(checkpoint_path(), *module, &optimizer_, state);
      if (improved) save_checkpoint(best_checkpoint_path(), *module, &optimizer_, state);
    }
  }
  if (!options_.out_dir().empty()) task_.write_report(options_.out_dir());
  result.best = best_;
  result.best_epoch = best_epoch_;
  result.steps = step_;
  result.epochs = epoch_;
  result.seconds = seconds_since(start);
  return result;
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
  }
  return better;
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
