// Loss scaling (GradScaler), the weight average (ModelEma), non-finite steps and
// the choice of autocast: the parts of the loop that keep reduced precision honest.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../support/golden.h"
#include "../support/temp_dir.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/configs/trainer_options.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/ema.h"
#include "torchzoo/train/grad_scaler.h"
#include "torchzoo/train/trainer.h"

using namespace torchzoo;
using testing::fresh_dir;
namespace fs = std::filesystem;

namespace {

/// Least squares y = x w* with a linear model (no bias) whose loss is multiplied by `factor`:
/// a tiny factor makes the fp16 gradients underflow, a large one overflow once scaled. The
/// forward runs under whatever autocast the trainer sets (fp16: the matmul is in fp16).
/// `poison` (epoch, batch) turns that batch's loss into NaN; `poison_statistics` sets a buffer
/// the forward does not read (running statistics, say) to NaN.
class RegressionTask : public train::Task {
 public:
  explicit RegressionTask(double factor, int64_t batches = 4) : factor_(factor), model_(make_model()) {
    statistics_ = model_->register_buffer("statistics", torch::zeros({2}));
    auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
    const auto w_star = torch::linspace(-1.0, 1.0, 8).reshape({8, 1});
    for (int64_t i = 0; i < batches; ++i) {
      xs_.push_back(torch::randn({16, 8}, generator));
      ys_.push_back(torch::matmul(xs_.back(), w_star));
    }
  }
  static torch::nn::Linear make_model() {
    torch::nn::Linear linear(torch::nn::LinearOptions(8, 1).bias(false));
    torch::NoGradGuard no_grad;
    linear->weight.fill_(0.0);
    return linear;
  }
  std::shared_ptr<torch::nn::Module> module() override { return model_.ptr(); }
  void to(torch::Device device) override { model_->to(device); }
  int64_t batches_per_epoch() const override { return static_cast<int64_t>(xs_.size()); }
  train::BatchLoss train_loss(int64_t epoch, int64_t index) override {
    if (poison_statistics_ && *poison_statistics_ == std::pair{epoch, index}) statistics_.fill_(std::nan(""));
    const auto& x = xs_[static_cast<size_t>(index)];
    auto prediction = model_(x).to(torch::kFloat32);  // [16, 1]; fp16 under fp16 autocast, the loss in fp32
    auto loss = factor_ * (prediction - ys_[static_cast<size_t>(index)]).pow(2).sum();
    if (poison_ && *poison_ == std::pair{epoch, index}) loss = loss * std::nan("");
    return {loss, x.size(0), x.size(0)};
  }
  train::Metrics evaluate() override { return {{"loss", mse()}}; }
  std::string unit() const override { return "row"; }

  /// Mean squared error over all batches (fp32, no factor).
  double mse() {
    torch::NoGradGuard no_grad;
    double total = 0.0;
    for (size_t i = 0; i < xs_.size(); ++i) total += (model_(xs_[i]) - ys_[i]).pow(2).mean().item<double>();
    return total / static_cast<double>(xs_.size());
  }

  double factor_;
  torch::nn::Linear model_;
  std::vector<torch::Tensor> xs_, ys_;
  torch::Tensor statistics_;
  std::optional<std::pair<int64_t, int64_t>> poison_, poison_statistics_;
};

struct Run {
  train::TrainResult result;
  double initial_mse = 0.0, final_mse = 0.0;
};

Run fit(RegressionTask& task, train::TrainerOptions options, double lr = 0.05) {
  torch::optim::Adam adam(task.model_->parameters(), torch::optim::AdamOptions(lr));
  train::LRScheduler scheduler(adam, std::make_shared<train::ConstantSchedule>());
  train::Trainer trainer(std::move(options), task, adam, scheduler);
  trainer.print = [](const std::string&) {};
  Run run;
  run.initial_mse = task.mse();
  run.result = trainer.fit();
  run.final_mse = task.mse();
  return run;
}

std::vector<nlohmann::json> read_metrics(const fs::path& dir) {
  std::ifstream in(dir / "metrics.jsonl");
  std::vector<nlohmann::json> records;
  for (std::string line; std::getline(in, line);) records.push_back(nlohmann::json::parse(line));
  return records;
}

int64_t count_events(const std::vector<nlohmann::json>& records, const std::string& event) {
  return std::count_if(records.begin(), records.end(), [&](const auto& r) { return r["event"] == event; });
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

train::TrainerOptions fp16_options(int64_t epochs) {
  return train::TrainerOptions().epochs(epochs).log_every(0).autocast(torch::kHalf);
}

}  // namespace

TEST_CASE("GradScaler's scales, skips and steps match torch.amp.GradScaler on the same gradients",
          "[train][grad_scaler]") {
  const auto golden = testing::load_golden("grad_scaler");
  const auto coefficients = testing::golden_value(golden, "input.coefficients");  // [T, P]
  const auto options = testing::golden_value(golden, "options");
  auto p = testing::golden_value(golden, "input.p0").clone().requires_grad_(true);
  torch::optim::SGD sgd(std::vector<torch::Tensor>{p}, torch::optim::SGDOptions(0.1));
  train::GradScaler scaler(train::GradScalerOptions()
                               .init_scale(options[0].item<double>())
                               .growth_factor(options[1].item<double>())
                               .backoff_factor(options[2].item<double>())
                               .growth_interval(options[3].item<int64_t>()));
  const auto& scales = testing::golden_value(golden, "scale");
  const auto& trackers = testing::golden_value(golden, "growth_tracker");
  const auto& stepped = testing::golden_value(golden, "stepped");
  const auto& params = testing::golden_value(golden, "p");
  for (int64_t t = 0; t < coefficients.size(0); ++t) {
    INFO("step " << t);
    scaler.scale((p * coefficients[t]).sum()).backward();
    const bool did_step = scaler.step(sgd);
    scaler.update();
    sgd.zero_grad();
    CHECK(did_step == stepped[t].item<bool>());
    CHECK(scaler.get_scale() == scales[t].item<double>());
    CHECK(scaler.growth_tracker() == trackers[t].item<int64_t>());
    // The SGD update may round differently by kernel path (1 ulp); the scale sequence is exact.
    testing::check_close(p.detach(), params[t], 1e-6, "parameter after step " + std::to_string(t));
  }
}

TEST_CASE("fp16 gradients that underflow without loss scaling train with it", "[train][grad_scaler]") {
  // Loss x 1e-8: d loss / d prediction ~ 1e-9, below half fp16's smallest subnormal (6e-8), so the fp16
  // matmul's backward sees zeros; scaled by 2^16 they are ~1e-4, which fp16 holds.
  RegressionTask unscaled(1e-8), scaled(1e-8);
  const auto plain = fit(unscaled, fp16_options(30));
  CHECK(plain.final_mse == Approx(plain.initial_mse));  // no gradient reached the weights
  CHECK(unscaled.model_->weight.abs().max().item<double>() == 0.0);

  const auto with_scaler = fit(scaled, fp16_options(30).grad_scaler(train::GradScalerOptions()));
  INFO("mse " << with_scaler.initial_mse << " -> " << with_scaler.final_mse);
  CHECK(with_scaler.final_mse < 0.01 * with_scaler.initial_mse);
  CHECK(with_scaler.result.skipped_steps == 0);
}

TEST_CASE("fp16 gradients that overflow once scaled are skipped, logged, and the scale backs off until they fit",
          "[train][grad_scaler]") {
  // Loss x 100: gradients ~1e3 at the prediction, x 2^16 is past fp16's 65504, so the first steps
  // overflow; each halves the scale, and training then proceeds.
  const auto dir = fresh_dir("scaler_overflow");
  RegressionTask task(100.0);
  const auto run = fit(task, fp16_options(40).out_dir(dir.string()).grad_scaler(train::GradScalerOptions()));
  const auto records = read_metrics(dir);
  INFO("skipped " << run.result.skipped_steps << ", mse " << run.initial_mse << " -> " << run.final_mse);
  CHECK(run.result.skipped_steps >= 3);
  CHECK(count_events(records, "skip") == run.result.skipped_steps);
  for (const auto& record : records) {
    if (record["event"] == "skip") CHECK(record["reason"].get<std::string>().find("loss scale") != std::string::npos);
  }
  CHECK(run.result.steps + run.result.skipped_steps == 40 * 4);
  CHECK(run.final_mse < 0.01 * run.initial_mse);
}

TEST_CASE("The loss scaler's state is checkpointed and resumed exactly", "[train][grad_scaler][checkpoint]") {
  // growth_interval 5 and overflowing gradients: the scale moves both ways within the run.
  const auto scaler_options = train::GradScalerOptions().init_scale(1 << 20).growth_interval(5);
  auto options = [&](int64_t epochs, const fs::path& dir) {
    return fp16_options(epochs).out_dir(dir.string()).grad_scaler(scaler_options);
  };
  const auto straight_dir = fresh_dir("scaler_straight"), split_dir = fresh_dir("scaler_split");
  RegressionTask straight(10.0);
  fit(straight, options(6, straight_dir));

  RegressionTask first(10.0);
  fit(first, options(3, split_dir));
  RegressionTask second(10.0);
  torch::optim::Adam adam(second.model_->parameters(), torch::optim::AdamOptions(0.05));
  train::LRScheduler scheduler(adam, std::make_shared<train::ConstantSchedule>());
  train::Trainer resumed(options(6, split_dir), second, adam, scheduler);
  resumed.print = [](const std::string&) {};
  resumed.resume((split_dir / "checkpoint.pt").string());
  const double scale_after_resume = resumed.grad_scaler().get_scale();
  CHECK(scale_after_resume != scaler_options.init_scale());  // restored, not re-initialised
  resumed.fit();
  CHECK(torch::equal(second.model_->weight, straight.model_->weight));

  // A checkpoint without scaler state cannot resume a run that needs one.
  const auto plain_dir = fresh_dir("scaler_plain");
  RegressionTask plain(10.0);
  fit(plain, train::TrainerOptions().epochs(1).log_every(0).out_dir(plain_dir.string()));
  RegressionTask needs_scaler(10.0);
  torch::optim::Adam adam2(needs_scaler.model_->parameters(), torch::optim::AdamOptions(0.05));
  train::LRScheduler scheduler2(adam2, std::make_shared<train::ConstantSchedule>());
  train::Trainer trainer(options(2, fresh_dir("scaler_needs")), needs_scaler, adam2, scheduler2);
  REQUIRE_THROWS_WITH(trainer.resume((plain_dir / "checkpoint.pt").string()),
                      Catch::Contains("has no 'grad_scaler' state"));
}

TEST_CASE("A non-finite loss stops training naming the step and batch, and leaves the last checkpoint alone",
          "[train][nonfinite]") {
  const auto dir = fresh_dir("nonfinite_stop");
  RegressionTask task(1.0);
  fit(task, train::TrainerOptions().epochs(1).log_every(0).out_dir(dir.string()));
  const auto good = file_bytes(dir / "checkpoint.pt");

  task.poison_ = {{0, 2}};  // the next run's first epoch, batch 2: its optimizer step 3
  REQUIRE_THROWS_WITH(fit(task, train::TrainerOptions().epochs(2).log_every(0).out_dir(dir.string())),
                      Catch::Contains("optimizer step 3 (epoch 1, batch 2)") && Catch::Contains("on_nonfinite"));
  CHECK(file_bytes(dir / "checkpoint.pt") == good);
  CHECK(std::isfinite(task.model_->weight.sum().item<double>()));  // stopped before the step touched them
}

TEST_CASE("on_nonfinite skip skips and logs the step, and training goes on", "[train][nonfinite]") {
  const auto dir = fresh_dir("nonfinite_skip");
  RegressionTask task(1.0);
  task.poison_ = {{0, 1}};
  const auto run = fit(task, train::TrainerOptions().epochs(3).log_every(0).out_dir(dir.string()).skip_nonfinite(true));
  CHECK(run.result.skipped_steps == 1);
  CHECK(run.result.steps == 3 * 4 - 1);
  const auto records = read_metrics(dir);
  REQUIRE(count_events(records, "skip") == 1);
  for (const auto& record : records) {
    if (record["event"] != "skip") continue;
    CHECK(record["batch"] == 1);
    CHECK(record["epoch"] == 1);
  }
  CHECK(std::isfinite(task.model_->weight.sum().item<double>()));
  CHECK(run.final_mse < run.initial_mse);
}

TEST_CASE("A model with non-finite weights never overwrites a checkpoint", "[train][nonfinite]") {
  const auto dir = fresh_dir("nonfinite_weights");
  RegressionTask task(1.0);
  fit(task, train::TrainerOptions().epochs(1).log_every(0).out_dir(dir.string()));
  const auto good = file_bytes(dir / "checkpoint.pt");
  task.poison_statistics_ = {{0, 3}};  // as a norm's running statistics going NaN: losses and gradients stay finite
  REQUIRE_THROWS_WITH(fit(task, train::TrainerOptions().epochs(2).log_every(0).out_dir(dir.string())),
                      Catch::Contains("weights hold inf or NaN; not saving"));
  CHECK(file_bytes(dir / "checkpoint.pt") == good);
}

TEST_CASE("ModelEma follows timm's warm-up decay and swaps weights in and out", "[train][ema]") {
  torch::nn::Linear model(torch::nn::LinearOptions(2, 1).bias(false));
  torch::NoGradGuard no_grad;
  model->weight.copy_(torch::tensor({{1.0, -1.0}}));
  train::ModelEma ema(*model, train::ModelEmaOptions(0.9));  // warm-up, power 2/3
  // timm's get_decay(step) for the n-th update: 0 for the first, then 1 - (1 + (n - 1))^(-2/3), at most 0.9.
  auto expected = torch::tensor({{1.0, -1.0}}, torch::kFloat64);
  for (int n = 1; n <= 40; ++n) {
    const double decay = n == 1 ? 0.0 : std::min(0.9, 1.0 - std::pow(static_cast<double>(n), -2.0 / 3.0));
    CHECK(ema.next_decay() == Approx(decay).margin(1e-15));
    model->weight.copy_(torch::tensor({{static_cast<double>(n), 2.0 * n}}));
    ema.update(*model);
    expected = decay * expected + (1.0 - decay) * torch::tensor({{static_cast<double>(n), 2.0 * n}}, torch::kFloat64);
  }
  CHECK(ema.updates() == 40);
  ema.swap(*model);
  testing::check_close(model->weight, expected.to(torch::kFloat32), 1e-4, "EMA weights");
  ema.swap(*model);
  CHECK(torch::equal(model->weight, torch::tensor({{40.0f, 80.0f}})));

  train::ModelEma flat(*model, train::ModelEmaOptions(0.99).warmup(false));
  CHECK(flat.next_decay() == 0.0);  // the first update copies, as timm's
  flat.update(*model);
  CHECK(flat.next_decay() == 0.99);
}

TEST_CASE("The EMA is evaluated beside the raw weights, saved as ema.pt and resumed exactly", "[train][ema]") {
  auto options = [](int64_t epochs, const fs::path& dir) {
    return train::TrainerOptions().epochs(epochs).log_every(0).out_dir(dir.string()).ema_decay(0.9);
  };
  const auto straight_dir = fresh_dir("ema_straight"), split_dir = fresh_dir("ema_split");
  RegressionTask straight(1.0);
  const auto run = fit(straight, options(4, straight_dir), 0.02);
  REQUIRE(run.result.ema_eval.count("loss") == 1);
  CHECK(run.result.ema_eval.at("loss") != run.result.eval.at("loss"));
  const auto records = read_metrics(straight_dir);
  CHECK(records.back().contains("ema_valid_loss"));

  // ema.pt holds the averaged weights: evaluating them gives the EMA's validation loss.
  RegressionTask reload(1.0);
  train::load_checkpoint((straight_dir / "ema.pt").string(), *reload.model_);
  CHECK(reload.mse() == Approx(run.result.ema_eval.at("loss")).epsilon(1e-6));

  RegressionTask first(1.0), second(1.0);
  fit(first, options(2, split_dir), 0.02);
  torch::optim::Adam adam(second.model_->parameters(), torch::optim::AdamOptions(0.02));
  train::LRScheduler scheduler(adam, std::make_shared<train::ConstantSchedule>());
  train::Trainer resumed(options(4, split_dir), second, adam, scheduler);
  resumed.print = [](const std::string&) {};
  resumed.resume((split_dir / "checkpoint.pt").string());
  resumed.fit();
  RegressionTask a(1.0), b(1.0);
  train::load_checkpoint((straight_dir / "ema.pt").string(), *a.model_);
  train::load_checkpoint((split_dir / "ema.pt").string(), *b.model_);
  CHECK(torch::equal(a.model_->weight, b.model_->weight));
}

TEST_CASE("autocast auto picks bf16 exactly where the hardware runs it natively", "[train][autocast]") {
  const auto support = train::native_support(torch::kCPU, torch::kBFloat16);
  const auto choice = train::choose_autocast("auto", torch::kCPU);
  CHECK(choice.dtype.has_value() == support.native);
  if (support.native) CHECK(*choice.dtype == torch::kBFloat16);
  CHECK(choice.reason.find(support.why) != std::string::npos);
  CHECK(choice.warning.empty());

  // What ATen's cpuinfo says, as Python reports it.
  const std::string command =
      "python3 -c \"import torch; c = torch._C._cpu._get_cpu_capability(); "
      "print(int(bool(c.get('amx_bf16') or c.get('avx512_bf16'))))\"";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe);
  char answer[8] = {};
  REQUIRE(std::fgets(answer, sizeof answer, pipe.get()) != nullptr);
  CHECK(support.native == (answer[0] == '1'));

  const auto explicit_bf16 = train::choose_autocast("bf16", torch::kCPU, "train.autocast");
  CHECK(explicit_bf16.dtype == torch::kBFloat16);
  CHECK(explicit_bf16.reason == "train.autocast bf16");
  CHECK(explicit_bf16.warning.empty() == support.native);
  if (!support.native) CHECK_THAT(explicit_bf16.warning, Catch::Contains("slower than fp32"));
  CHECK_FALSE(train::choose_autocast("none", torch::kCPU).dtype.has_value());
  REQUIRE_THROWS_WITH(train::choose_autocast("fp8", torch::kCPU), Catch::Contains("expected auto, none, bf16 or fp16"));
}

TEST_CASE("The train section reads autocast, grad_scaler, ema and on_nonfinite", "[train][configs]") {
  auto read = [](const std::string& train) {
    auto config = configs::Config::parse("train: " + train, "t.yaml");
    return configs::read_trainer_options(config, "runs/t");
  };
  CHECK(read("{device: cpu, autocast: auto}").autocast() == train::choose_autocast("auto", torch::kCPU).dtype);
  CHECK(read("{device: cpu}").autocast() == train::choose_autocast("auto", torch::kCPU).dtype);  // the default
  const auto fp16 = read("{device: cpu, autocast: fp16}");
  CHECK(fp16.autocast() == torch::kHalf);
  CHECK(fp16.grad_scaler().enabled());
  CHECK(fp16.grad_scaler().init_scale() == 65536.0);
  CHECK(fp16.grad_scaler().growth_interval() == 2000);
  CHECK_FALSE(read("{device: cpu, autocast: none}").grad_scaler().enabled());
  const auto tuned = read("{device: cpu, autocast: fp16, grad_scaler: {init_scale: 1024, growth_interval: 100}}");
  CHECK(tuned.grad_scaler().init_scale() == 1024.0);
  CHECK(tuned.grad_scaler().growth_interval() == 100);
  CHECK_FALSE(read("{device: cpu, autocast: fp16, grad_scaler: {enabled: false}}").grad_scaler().enabled());
  const auto ema = read("{device: cpu, ema_decay: 0.999, ema_warmup: false, on_nonfinite: skip}");
  CHECK(ema.ema_decay() == 0.999);
  CHECK_FALSE(ema.ema_warmup());
  CHECK(ema.skip_nonfinite());
  REQUIRE_THROWS_WITH(read("{device: cpu, autocast: fp8}"), Catch::Contains("t.yaml:1") && Catch::Contains("autocast"));
  REQUIRE_THROWS_WITH(read("{device: cpu, autocast: fp16, grad_scaler: {init: 2}}"),
                      Catch::Contains("grad_scaler.init"));
  REQUIRE_THROWS_WITH(read("{device: cpu, ema_decay: 1.5}"), Catch::Contains("ema_decay"));
  REQUIRE_THROWS_WITH(read("{device: cpu, on_nonfinite: ignore}"), Catch::Contains("on_nonfinite"));
}
