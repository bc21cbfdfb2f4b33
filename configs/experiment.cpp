#include "torchzoo/configs/experiment.h"

#include <torch/utils.h>

#include <filesystem>

#include "torchzoo/configs/registries.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/models/vision_transformer.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/device.h"
#include "torchzoo/train/safetensors.h"

namespace torchzoo::configs {
namespace {

/// model.init_from: the weights of a safetensors file (names: the reference's state_dict keys)
/// replace the freshly built model's. Errors are located at the key and name the file.
void load_init_from(const Section& section, torch::nn::Module& model, const std::string& path) {
  if (path.empty()) section.fail("init_from", "expected the path of a .safetensors file, got an empty string");
  const auto source = fmt::format("safetensors file '{}'", path);
  std::string exported_from;
  try {
    auto contents = train::read_safetensors(path);
    if (auto it = contents.metadata.find(train::kMetadataModel); it != contents.metadata.end()) {
      exported_from = it->second;
    }
    if (auto* vit = model.as<models::VisionTransformerImpl>()) {
      // Weights trained on another image size: pos_embed resampled to this model's patch grid, as timm does.
      for (auto& [name, tensor] : contents.tensors) {
        if (name == "pos_embed") tensor = models::fit_pos_embed(*vit, tensor);
      }
    }
    train::load_state(model, contents.tensors, source);
  } catch (const c10::Error& error) {
    std::string message = error.what_without_backtrace();
    const auto name = section.get<std::string>("name", "");
    if (!exported_from.empty() && exported_from != name) {
      message +=
          fmt::format(" (the file was exported from a '{}' model, this config builds a '{}')", exported_from, name);
    }
    section.fail("init_from", message);
  }
}

}  // namespace

std::string default_out_dir(const Config& config) {
  return (std::filesystem::path("runs") / std::filesystem::path(config.file()).stem()).string();
}

std::shared_ptr<torch::nn::Module> build_model(const Config& config, bool with_init_from) {
  int64_t seed = 1;
  if (auto train = config.root().optional_section("train")) {
    seed = train->get_in_range<int64_t>("seed", 1, 0, INT64_MAX);
  }
  torch::manual_seed(static_cast<uint64_t>(seed));
  auto section = config.section("model");
  // Read before the builder, whose finish() then accepts init_from for every model.
  const auto init_from = section.get_optional<std::string>("init_from");
  auto model = lookup(model_registry(), section)(section);
  if (init_from && with_init_from) load_init_from(section, *model, *init_from);
  return model;
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
