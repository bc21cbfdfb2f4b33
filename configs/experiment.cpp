#include "torchzoo/configs/experiment.h"

#include <torch/utils.h>

#include <filesystem>

#include "torchzoo/configs/registries.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/device.h"

namespace torchzoo::configs {

std::string default_out_dir(const Config& config) {
  return (std::filesystem::path("runs") / std::filesystem::path(config.file()).stem()).string();
}

std::shared_ptr<torch::nn::Module> build_model(const Config& config) {
  int64_t seed = 1;
  if (auto train = config.root().optional_section("train")) {
    seed = train->get_in_range<int64_t>("seed", 1, 0, INT64_MAX);
  }
  torch::manual_seed(static_cast<uint64_t>(seed));
  auto model = config.section("model");
  return lookup(model_registry(), model)(model);
}

std::unique_ptr<train::Task> build_task(const Config& config, std::shared_ptr<torch::nn::Module> model) {
  auto data = config.section("data");
  return lookup(task_registry(), data)(data, config, std::move(model));
}

Experiment build_experiment(const Config& config) {
  Experiment e;
  auto train = config.section("train");
  e.seed = static_cast<uint64_t>(train.get_in_range<int64_t>("seed", 1, 0, INT64_MAX));
  e.threads = train.get_in_range<int64_t>("threads", 0, 0, 1024);
  auto device_name = train.get("device", "auto");
  torch::Device device = torch::kCPU;
  try {
    device = train::select_device(device_name);
  } catch (const c10::Error& error) {
    train.fail("device", error.what_without_backtrace());
  }
  e.trainer.epochs(train.get_positive<int64_t>("epochs", 1))
      .accum_steps(train.get_positive<int64_t>("accum_steps", 1))
      .clip_grad_norm(train.get_in_range<double>("clip_grad_norm", 0.0, 0.0, 1e9))
      .log_every(train.get_in_range<int64_t>("log_every", 10, 0, INT64_MAX))
      .max_steps(train.get_in_range<int64_t>("max_steps", 0, 0, INT64_MAX))
      .out_dir(train.get("out_dir", default_out_dir(config)))
      .config_text(config.to_yaml())
      .device(device)
      .autocast(train::autocast_dtype_from_string(train.get_choice("autocast", "none", {"none", "bf16", "fp16"})))
      .keep_best(train.get("keep_best", ""))
      .keep_best_max(train.get_choice("keep_best_mode", "max", {"max", "min"}) == "max")
      .eval_every(train.get_in_range<int64_t>("eval_every", 0, 0, INT64_MAX))
      .patience(train.get_in_range<int64_t>("patience", 0, 0, INT64_MAX))
      .average_last(train.get_in_range<int64_t>("average_last", 0, 0, 1000));
  if (e.trainer.patience() > 0 && e.trainer.keep_best().empty()) {
    train.fail("patience", "early stopping watches the keep_best metric: set train.keep_best (e.g. bleu)");
  }
  train.finish();

  e.model_name = config.section("model").require<std::string>("name");
  e.model = build_model(config);
  e.task = build_task(config, e.model);

  auto optimizer = config.section("optimizer");
  e.optimizer = lookup(optimizer_registry(), optimizer)(optimizer, *e.model);
  std::shared_ptr<train::LRSchedule> schedule = std::make_shared<train::ConstantSchedule>();
  if (auto scheduler = config.root().optional_section("scheduler")) {
    schedule = lookup(scheduler_registry(), *scheduler)(*scheduler, config);
  }
  e.scheduler = std::make_unique<train::LRScheduler>(*e.optimizer, schedule);
  config.root().finish();
  return e;
}

}  // namespace torchzoo::configs
