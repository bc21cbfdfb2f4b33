#include "torchzoo/families/experiment.h"

#include <torch/utils.h>

#include <filesystem>

#include "torchzoo/common/format.h"
#include "torchzoo/configs/registries.h"
#include "torchzoo/configs/trainer_options.h"
#include "torchzoo/families/registry.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/export/safetensors.h"

namespace torchzoo::families {
namespace {

/// model.init_from: the weights of a safetensors file (names: the reference's state_dict keys, or what
/// the family's adapt_init_weights maps, e.g. Hugging Face BERT's) replace the freshly built model's.
/// Errors are located at the key and name the file.
void load_init_from(const Section& section, const FamilyModel& model, const std::string& given) {
  if (given.empty()) {
    section.fail("init_from", "expected the path of a .safetensors file or a Hugging Face folder, got an empty string");
  }
  // A folder (a Hugging Face checkpoint) holds its weights in model.safetensors.
  const auto path =
      std::filesystem::is_directory(given) ? (std::filesystem::path(given) / "model.safetensors").string() : given;
  const auto source = fmt::format("safetensors file '{}'", path);
  std::string exported_from;
  try {
    auto contents = train::read_safetensors(path);
    if (auto it = contents.metadata.find(train::kMetadataModel); it != contents.metadata.end()) {
      exported_from = it->second;
    }
    model.adapt_init_weights(contents.tensors);
    train::load_state(*model.module(), contents.tensors, source);
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

std::shared_ptr<FamilyModel> build_family_model(const Config& config, bool with_init_from) {
  torch::manual_seed(configs::read_run_options(config).seed());
  auto section = config.section("model");
  // Read before the builder, whose finish() then accepts init_from for every model.
  const auto init_from = section.get_optional<std::string>("init_from");
  std::shared_ptr<FamilyModel> model = family_of(section).build(section);
  if (init_from && with_init_from) load_init_from(section, *model, *init_from);
  return model;
}

std::shared_ptr<torch::nn::Module> build_model(const Config& config, bool with_init_from) {
  return build_family_model(config, with_init_from)->module();
}

std::shared_ptr<FamilyModel> load_trained(const Config& config, const std::string& checkpoint, torch::Device device) {
  auto model = build_family_model(config, /*with_init_from=*/false);
  train::load_checkpoint(checkpoint, *model->module());
  model->module()->to(device);
  model->module()->eval();
  return model;
}

Experiment build_experiment(const Config& config) {
  Experiment e;
  const auto run = configs::read_run_options(config);
  e.seed = run.seed();
  e.threads = run.threads();
  e.tensorboard = run.tensorboard();
  e.trainer = configs::read_trainer_options(config, default_out_dir(config));

  e.model_name = config.section("model").require<std::string>("name");
  e.family_model = build_family_model(config);
  e.model = e.family_model->module();
  e.task = e.family_model->build_task(config);

  auto optimizer = config.section("optimizer");
  e.optimizer = configs::lookup(configs::optimizer_registry(), optimizer)(optimizer, *e.model);
  std::shared_ptr<train::LRSchedule> schedule = std::make_shared<train::ConstantSchedule>();
  if (auto scheduler = config.root().optional_section("scheduler")) {
    const configs::ScheduleContext context{e.family_model->model_size()};
    schedule = configs::lookup(configs::scheduler_registry(), *scheduler)(*scheduler, context);
  }
  e.scheduler = std::make_unique<train::LRScheduler>(*e.optimizer, schedule);
  config.root().finish();
  e.trainer.resolved_config_text(config.resolved_yaml());
  return e;
}

}  // namespace torchzoo::families
