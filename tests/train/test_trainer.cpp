#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/learning.h"
#include "../support/temp_dir.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/families/registry.h"
#include "torchzoo/train/metrics_log.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/decode/greedy_decode.h"
#include "torchzoo/train/tasks/seq2seq_task.h"
#include "torchzoo/train/trainer.h"

using namespace torchzoo;
using testing::fresh_dir;
namespace fs = std::filesystem;

namespace {

/// A linear model with fixed batches of different sizes: loss = sum((w x - y)^2) over the batch's rows.
class LinearTask : public train::Task {
 public:
  explicit LinearTask(int64_t batches) : model_(torch::nn::Linear(torch::nn::LinearOptions(3, 1).bias(false))) {
    torch::NoGradGuard no_grad;
    model_->weight.copy_(torch::tensor({{0.5, -0.25, 1.0}}));
    for (int64_t i = 0; i < batches; ++i) {
      xs_.push_back(torch::linspace(-1, 1, 3 * (i + 2)).reshape({i + 2, 3}) * (i + 1));
      ys_.push_back(torch::ones({i + 2, 1}) * static_cast<double>(i));
    }
  }
  std::shared_ptr<torch::nn::Module> module() override { return model_.ptr(); }
  void to(torch::Device device) override {}
  int64_t batches_per_epoch() const override { return static_cast<int64_t>(xs_.size()); }
  train::BatchLoss train_loss(int64_t epoch, int64_t index) override {
    auto& x = xs_[static_cast<size_t>(index)];
    auto loss = (model_(x) - ys_[static_cast<size_t>(index)]).pow(2).sum();
    return {loss, x.size(0), x.size(0)};
  }
  train::Metrics evaluate() override { return {{"loss", 0.0}}; }
  std::string unit() const override { return "row"; }

  /// The gradient of batch `index`'s per-row loss at the current weights.
  torch::Tensor gradient(int64_t index) {
    model_->zero_grad();
    auto b = train_loss(0, index);
    (b.loss / static_cast<double>(b.count)).backward();
    auto grad = model_->weight.grad().clone();
    model_->zero_grad();
    return grad;
  }

  torch::nn::Linear model_;
  std::vector<torch::Tensor> xs_, ys_;
};

}  // namespace

TEST_CASE("Gradient accumulation averages per-batch losses and steps the schedule per optimizer step",
          "[trainer][accumulation]") {
  // 5 batches with accum_steps 2: groups {0, 1}, {2, 3}, {4}; three optimizer steps.
  LinearTask task(5);
  torch::optim::SGD sgd(task.model_->parameters(), torch::optim::SGDOptions(0.1));
  auto counting = std::make_shared<train::ConstantSchedule>();
  train::LRScheduler scheduler(sgd, counting);

  // Expected weights, stepping by hand on a copy of the task.
  LinearTask manual(5);
  auto w = manual.model_->weight.detach().clone();
  auto step_with = [&](std::vector<int64_t> group) {
    auto grad = torch::zeros_like(w);
    for (auto i : group) grad += manual.gradient(i) / static_cast<double>(group.size());
    w -= 0.1 * grad;
    torch::NoGradGuard no_grad;
    manual.model_->weight.copy_(w);
  };
  step_with({0, 1});
  step_with({2, 3});
  step_with({4});

  train::Trainer trainer(train::TrainerOptions().epochs(1).accum_steps(2).log_every(0), task, sgd, scheduler);
  trainer.print = [](const std::string&) {};
  auto result = trainer.fit();
  REQUIRE(result.steps == 3);
  REQUIRE(scheduler.step_count() == 3);
  INFO("got " << task.model_->weight << " expected " << w);
  REQUIRE(torch::allclose(task.model_->weight, w, /*rtol=*/0, /*atol=*/1e-6));
}

TEST_CASE("Gradient clipping bounds the update", "[trainer][clipping]") {
  LinearTask clipped(1), unclipped(1);
  torch::optim::SGD sgd_clipped(clipped.model_->parameters(), torch::optim::SGDOptions(1.0));
  torch::optim::SGD sgd_free(unclipped.model_->parameters(), torch::optim::SGDOptions(1.0));
  train::LRScheduler s1(sgd_clipped, std::make_shared<train::ConstantSchedule>());
  train::LRScheduler s2(sgd_free, std::make_shared<train::ConstantSchedule>());
  auto w0 = clipped.model_->weight.detach().clone();
  train::Trainer a(train::TrainerOptions().clip_grad_norm(0.01).log_every(0), clipped, sgd_clipped, s1);
  train::Trainer b(train::TrainerOptions().log_every(0), unclipped, sgd_free, s2);
  a.print = b.print = [](const std::string&) {};
  a.fit();
  b.fit();
  REQUIRE((clipped.model_->weight - w0).norm().item<double>() == Approx(0.01).epsilon(1e-4));
  REQUIRE((unclipped.model_->weight - w0).norm().item<double>() > 0.1);
}

namespace {

const char* kTinyCopy = R"(
model: {name: encoder_decoder, src_vocab: 11, tgt_vocab: 11, num_layers: 1, d_model: 32, d_ff: 64, num_heads: 4,
        dropout: 0.1}
data: {name: copy_task, batch_size: 16, train_batches: 4, valid_batches: 1}
loss: {name: label_smoothing, smoothing: 0.1}
optimizer: {name: adam, lr: 1.0, betas: [0.9, 0.98], eps: 1.0e-9}
scheduler: {name: noam, warmup: 10}
train: {epochs: 3, seed: 5, log_every: 0, device: cpu}
)";

/// Trains kTinyCopy for `epochs` (resuming from `resume` when given) and returns the parameters.
std::vector<torch::Tensor> train_tiny(int64_t epochs, const fs::path& out_dir, const std::string& resume = "") {
  auto config = configs::Config::parse(kTinyCopy, "tiny_copy.yaml");
  config.apply_override("train.epochs=" + std::to_string(epochs));
  config.apply_override("train.out_dir='" + out_dir.string() + "'");
  auto experiment = families::build_experiment(config);
  train::Trainer trainer(experiment.trainer, *experiment.task, *experiment.optimizer, *experiment.scheduler);
  trainer.print = [](const std::string&) {};
  if (!resume.empty()) trainer.resume(resume);
  trainer.fit();
  std::vector<torch::Tensor> parameters;
  for (const auto& p : experiment.model->parameters()) parameters.push_back(p.detach().clone());
  return parameters;
}

}  // namespace

TEST_CASE("Resuming from a checkpoint continues exactly as an uninterrupted run", "[trainer][checkpoint]") {
  auto straight_dir = fresh_dir("straight");
  auto split_dir = fresh_dir("split");
  auto straight = train_tiny(3, straight_dir);
  train_tiny(1, split_dir);  // writes split/checkpoint.pt after epoch 1 (dropout on: the random state matters)
  auto resumed = train_tiny(3, split_dir, (split_dir / "checkpoint.pt").string());
  REQUIRE(straight.size() == resumed.size());
  for (size_t i = 0; i < straight.size(); ++i) {
    INFO("parameter " << i << " max diff " << (straight[i] - resumed[i]).abs().max().item<double>());
    REQUIRE(torch::equal(straight[i], resumed[i]));
  }
  REQUIRE(fs::exists(straight_dir / "metrics.jsonl"));
  fs::remove_all(straight_dir);
  fs::remove_all(split_dir);
}

TEST_CASE("copy_task_tiny learns to copy: greedy decoding reproduces held-out sequences",
          "[trainer][copy_task][learning]") {
  const auto start = std::chrono::steady_clock::now();
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/copy_task_tiny.yaml");
  auto out_dir = fresh_dir("copy_tiny");
  config.apply_override("train.out_dir='" + out_dir.string() + "'");
  testing::apply_train_seed(config);
  auto experiment = families::build_experiment(config);
  train::Trainer trainer(experiment.trainer, *experiment.task, *experiment.optimizer, *experiment.scheduler);
  trainer.print = [](const std::string&) {};
  auto result = trainer.fit();

  // Greedy decoding of the test split's sequences, which training never saw (128 of them).
  auto& task = dynamic_cast<train::Seq2SeqTask&>(*experiment.task);
  const auto& source = task.source();
  task.model()->eval();
  int64_t copied = 0;
  int64_t sequences = 0;
  for (int64_t i = 0; i < source.num_batches(data::Split::kTest); ++i) {
    const auto batch = source.batch(data::Split::kTest, 0, i);
    const auto decoded =
        train::greedy_decode(*task.model(), batch.src, batch.src_mask,
                             train::GreedyDecodeOptions(batch.src.size(1), batch.src[0][0].item<int64_t>()));
    copied += decoded.eq(batch.src).all(-1).sum().item<int64_t>();  // [B, T] -> sequences copied exactly
    sequences += batch.src.size(0);
  }
  const double copy_rate = static_cast<double>(copied) / static_cast<double>(sequences);
  INFO("valid loss " << result.eval.at("loss") << ", token accuracy " << result.eval.at("token_accuracy")
                     << ", sequence accuracy " << result.eval.at("sequence_accuracy") << "; test: " << copied << " of "
                     << sequences << " copied exactly");
  // Every kernel path, thread count and seed of tests/learning_sweep.py copies all of them; an
  // untrained model copies none.
  REQUIRE(result.eval.at("sequence_accuracy") >= 0.95);
  REQUIRE(copy_rate >= 0.95);
  CHECK_NO_HANG(testing::seconds_since(start), 6.0);
  fs::remove_all(out_dir);
}

namespace {

/// LinearTask whose validation reports a scripted `score` per evaluation.
class ScriptedTask : public LinearTask {
 public:
  ScriptedTask(int64_t batches, std::vector<double> scores) : LinearTask(batches), scores_(std::move(scores)) {}
  train::Metrics evaluate() override {
    const auto score = scores_[std::min(evaluations_++, scores_.size() - 1)];
    return {{"loss", 0.0}, {"score", score}};
  }
  size_t evaluations_ = 0;

 private:
  std::vector<double> scores_;
};

torch::Tensor weight_of(const std::string& checkpoint) {
  torch::nn::Linear model(torch::nn::LinearOptions(3, 1).bias(false));
  train::load_checkpoint(checkpoint, *model);
  return model->weight.detach().clone();
}

}  // namespace

TEST_CASE("Evaluation every N steps, early stopping on the kept metric and averaging of the last evaluations",
          "[trainer][early_stopping]") {
  // 4 batches per epoch, evaluations at steps 3, 4 (epoch end), 6, 8 (epoch end), ...
  // Scores 1, 2, 1, 2: the best is step 4's; steps 6 and 8 bring no better one, so patience 2 stops at step 8.
  ScriptedTask task(4, {1.0, 2.0, 1.0, 2.0, 5.0});
  torch::optim::SGD sgd(task.model_->parameters(), torch::optim::SGDOptions(0.01));
  train::LRScheduler scheduler(sgd, std::make_shared<train::ConstantSchedule>());
  auto out_dir = fresh_dir("early_stopping");
  train::Trainer trainer(train::TrainerOptions()
                             .epochs(10)
                             .eval_every(3)
                             .keep_best("score")
                             .patience(2)
                             .average_last(2)
                             .log_every(0)
                             .out_dir(out_dir.string()),
                         task, sgd, scheduler);
  trainer.print = [](const std::string&) {};
  auto result = trainer.fit();
  REQUIRE(result.stopped_early);
  REQUIRE(result.steps == 8);
  // Four evaluations during training, one of the averaged weights.
  REQUIRE(task.evaluations_ == 5);
  REQUIRE(*result.best == 2.0);
  REQUIRE(result.best_step == 4);
  REQUIRE(train::read_checkpoint_state((out_dir / "best.pt").string()).step == 4);

  // The last two evaluations' weights are kept, and averaged.pt is their mean.
  std::vector<std::string> snapshots;
  for (const auto& entry : fs::directory_iterator(out_dir / "snapshots")) snapshots.push_back(entry.path().string());
  std::sort(snapshots.begin(), snapshots.end());
  REQUIRE(snapshots.size() == 2);
  REQUIRE(train::read_checkpoint_state(snapshots[0]).step == 6);
  REQUIRE(train::read_checkpoint_state(snapshots[1]).step == 8);
  auto expected = (weight_of(snapshots[0]) + weight_of(snapshots[1])) / 2;
  REQUIRE(torch::allclose(weight_of((out_dir / "averaged.pt").string()), expected, 0, 1e-7));
  // The model itself ends with its final weights, not the average.
  REQUIRE(torch::equal(task.model_->weight, weight_of(snapshots[1])));
  fs::remove_all(out_dir);
}

TEST_CASE("Resuming from an evaluation within an epoch continues at the next batch", "[trainer][checkpoint]") {
  auto run = [](int64_t max_steps, const fs::path& out_dir, const std::string& resume) {
    LinearTask task(4);
    torch::optim::SGD sgd(task.model_->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    train::LRScheduler scheduler(sgd, std::make_shared<train::ConstantSchedule>());
    train::Trainer trainer(
        train::TrainerOptions().epochs(2).eval_every(3).max_steps(max_steps).log_every(0).out_dir(out_dir.string()),
        task, sgd, scheduler);
    trainer.print = [](const std::string&) {};
    if (!resume.empty()) trainer.resume(resume);
    auto result = trainer.fit();
    return std::make_pair(result.steps, task.model_->weight.detach().clone());
  };
  auto straight_dir = fresh_dir("mid_epoch_straight");
  auto split_dir = fresh_dir("mid_epoch_split");
  auto [straight_steps, straight] = run(0, straight_dir, "");
  auto [first_steps, first] = run(3, split_dir, "");  // stops after batch 3 of epoch 1
  REQUIRE(first_steps == 3);
  auto state = train::read_checkpoint_state((split_dir / "checkpoint.pt").string());
  REQUIRE(state.epoch == 0);
  REQUIRE(state.batch == 3);
  auto [resumed_steps, resumed] = run(0, split_dir, (split_dir / "checkpoint.pt").string());
  REQUIRE(straight_steps == 8);
  REQUIRE(resumed_steps == 8);
  REQUIRE(torch::equal(straight, resumed));
  fs::remove_all(straight_dir);
  fs::remove_all(split_dir);
}

TEST_CASE("A resumed run's metrics log is cut back to the checkpoint's step, torn lines included",
          "[trainer][faults]") {
  const auto dir = testing::fresh_dir("metrics_cut");
  const auto path = (dir / "metrics.jsonl").string();
  {
    std::ofstream out(path);
    out << "{\"event\": \"step\", \"epoch\": 1, \"step\": 1, \"loss\": 2.0}\n"
        << "{\"event\": \"save\", \"epoch\": 1, \"step\": 2, \"batch\": 2}\n"
        << "{\"event\": \"skip\", \"epoch\": 1, \"step\": 2, \"batch\": 3}\n"
        << "{\"event\": \"step\", \"epoch\": 1, \"step\": 3, \"loss\": 1.0}\n"
        << "{\"event\": \"step\", \"epoch\": 1, \"st";  // a kill -9 in the middle of a record
  }
  CHECK(train::MetricsLog::keep_until_step(path, 2) == 3);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() ==
        "{\"event\": \"step\", \"epoch\": 1, \"step\": 1, \"loss\": 2.0}\n"
        "{\"event\": \"save\", \"epoch\": 1, \"step\": 2, \"batch\": 2}\n");
  CHECK(train::MetricsLog::keep_until_step((dir / "none.jsonl").string(), 2) == 0);
}
