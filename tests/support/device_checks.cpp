#include "device_checks.h"

#include <torch/cuda.h>
#include <torch/script.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <iostream>

#include "temp_dir.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/decode/greedy_decode.h"
#include "torchzoo/train/export/torchscript_export.h"
#include "torchzoo/train/trainer.h"

namespace torchzoo::testing {
namespace {

namespace fs = std::filesystem;

std::string dir_name(const std::string& what, torch::Device device) {
  auto name = what + "_" + device.str();
  std::replace(name.begin(), name.end(), ':', '_');
  return name;
}

struct Trained {
  train::TrainResult result;
  std::vector<torch::Tensor> parameters;  ///< on the CPU
  fs::path out_dir;
};

/// configs/copy_task_tiny.yaml on `device` for `epochs` (of `total_epochs` planned), with `overrides`.
Trained train_copy(torch::Device device, int64_t epochs, const fs::path& out_dir,
                   const std::vector<std::string>& overrides = {}, const std::string& resume = "",
                   int64_t total_epochs = 0) {
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/copy_task_tiny.yaml");
  config.apply_override("train.device='" + device.str() + "'");
  config.apply_override("train.epochs=" + std::to_string(total_epochs > 0 ? total_epochs : epochs));
  config.apply_override("train.out_dir='" + out_dir.string() + "'");
  config.apply_override("train.log_every=0");
  for (const auto& assignment : overrides) config.apply_override(assignment);
  auto experiment = families::build_experiment(config);
  auto options = experiment.trainer;
  if (total_epochs > 0 && resume.empty()) options.max_steps(epochs * experiment.task->batches_per_epoch());
  train::Trainer trainer(options, *experiment.task, *experiment.optimizer, *experiment.scheduler);
  trainer.print = [](const std::string&) {};
  if (!resume.empty()) trainer.resume(resume);
  Trained trained;
  trained.result = trainer.fit();
  trained.out_dir = out_dir;
  for (const auto& p : experiment.model->parameters()) {
    CHECK(p.device().type() == device.type());
    trained.parameters.push_back(p.detach().cpu());
  }
  return trained;
}

bool all_finite(const std::vector<torch::Tensor>& tensors) {
  for (const auto& t : tensors) {
    if (!torch::isfinite(t).all().item<bool>()) return false;
  }
  return true;
}

}  // namespace

void check_training_step(torch::Device device) {
  const auto run = train_copy(device, 2, fresh_dir(dir_name("device_train", device)));
  CHECK(run.result.steps == 40);
  CHECK(all_finite(run.parameters));
  CHECK(run.result.eval.at("loss") < 2.3);  // log(11) = 2.40 is the loss of a uniform guess
}

void check_autocast_training(torch::Device device, const std::string& autocast) {
  const auto dir = fresh_dir(dir_name("device_" + autocast, device));
  const auto run = train_copy(device, 2, dir, {"train.autocast=" + autocast});
  CHECK(run.result.steps + run.result.skipped_steps == 40);
  CHECK(all_finite(run.parameters));
  CHECK(std::isfinite(run.result.eval.at("loss")));
  CHECK(run.result.eval.at("loss") < 2.3);
  if (autocast == "fp16") {
    // The scaler's state is in the checkpoint: a resume needs it.
    auto resumed = train_copy(device, 3, fresh_dir(dir_name("device_fp16_resume", device)),
                              {"train.autocast=fp16"}, (dir / "checkpoint.pt").string());
    CHECK(resumed.result.steps == 60 - run.result.skipped_steps - resumed.result.skipped_steps);
  }
}

void check_checkpoint_resume(torch::Device device, double atol) {
  const auto straight = train_copy(device, 2, fresh_dir(dir_name("device_straight", device)));
  const auto split_dir = fresh_dir(dir_name("device_split", device));
  train_copy(device, 1, split_dir, {}, "", /*total_epochs=*/2);
  const auto resumed = train_copy(device, 2, split_dir, {}, (split_dir / "checkpoint.pt").string());
  REQUIRE(resumed.parameters.size() == straight.parameters.size());
  for (size_t i = 0; i < straight.parameters.size(); ++i) {
    INFO("parameter " << i);
    CHECK(torch::allclose(resumed.parameters[i], straight.parameters[i], /*rtol=*/0, atol));
  }
}

void check_cached_decoding(torch::Device device) {
  const auto dir = fresh_dir(dir_name("device_decode", device));
  train_copy(device, 20, dir);  // trained: argmax margins are wide, so equal math gives equal tokens
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/copy_task_tiny.yaml");
  auto family_model = families::load_trained(config, (dir / "checkpoint.pt").string(), device);
  auto model = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(family_model->module());
  REQUIRE(model);
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
  auto src = torch::randint(2, 11, {16, 10}, generator).to(device);
  src.select(1, 0).fill_(1);
  auto src_mask = src.ne(0).unsqueeze(-2);
  const auto options = train::GreedyDecodeOptions(/*max_len=*/10, /*start_symbol=*/1);
  const auto cached = train::greedy_decode(*model, src, src_mask, options);
  const auto uncached = train::greedy_decode(*model, src, src_mask, train::GreedyDecodeOptions(options).use_cache(false));
  CHECK(cached.device().type() == device.type());
  CHECK(torch::equal(cached.cpu(), uncached.cpu()));
  CHECK(cached.eq(src).all(-1).to(torch::kFloat).mean().item<double>() >= 0.9);  // it learned to copy
}

void check_torchscript_on(torch::Device device) {
  const auto dir = fresh_dir(dir_name("device_script", device));
  train_copy(device, 20, dir);
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/copy_task_tiny.yaml");
  auto on_cpu = families::load_trained(config, (dir / "checkpoint.pt").string(), torch::kCPU);
  const auto path = (dir / "model.pt").string();
  train::export_torchscript(*on_cpu->module(), path, on_cpu->script_export_options(config));
  auto loaded = torch::jit::load(path, device);
  loaded.eval();

  auto on_device = families::load_trained(config, (dir / "checkpoint.pt").string(), device);
  auto model = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(on_device->module());
  REQUIRE(model);
  torch::NoGradGuard no_grad;
  auto src = torch::arange(1, 11, torch::kLong).repeat({3, 1}).to(device);  // [3, 10]
  auto src_mask = src.ne(0).unsqueeze(-2);
  const auto expected = train::greedy_decode(*model, src, src_mask, train::GreedyDecodeOptions(10, 1));
  const auto scripted = loaded.run_method("greedy_decode", src, src_mask, 10, 1, -1, 0).toTensor();
  CHECK(scripted.device().type() == device.type());
  CHECK(torch::equal(scripted.cpu(), expected.cpu()));
}

bool cuda_or_skip() {
  if (torch::cuda::is_available()) return true;
  std::cout << "SKIPPED: no CUDA device (this LibTorch build or machine has none)" << std::endl;
  return false;
}

}  // namespace torchzoo::testing
