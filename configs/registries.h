#pragma once
// The name -> builder registries that configs use: `model.name`, `data.name`,
// `optimizer.name`, `scheduler.name` and `loss.name`. They live here, next to
// the YAML reader, because each builder turns a YAML section into Options;
// layers/, models/, data/ and train/ never see YAML. All registries are filled
// explicitly in one function (registries.cpp), once.
#include <functional>
#include <memory>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "torchzoo/configs/config.h"
#include "torchzoo/configs/registry.h"
#include "torchzoo/train/lr_schedule.h"
#include "torchzoo/train/task.h"

namespace torchzoo::configs {

/// Builds a model from the `model` section.
using ModelBuilder = std::function<std::shared_ptr<torch::nn::Module>(const Section& model)>;
/// Builds the training task from the `data` section, the whole config (for `loss`, `sample`) and the model.
using TaskBuilder = std::function<std::unique_ptr<train::Task>(const Section& data, const Config& config,
                                                               std::shared_ptr<torch::nn::Module> model)>;
/// Builds an optimizer over `model`'s parameters from the `optimizer` section.
using OptimizerBuilder =
    std::function<std::unique_ptr<torch::optim::Optimizer>(const Section& optimizer, const torch::nn::Module& model)>;
/// Builds a schedule from the `scheduler` section (the config gives defaults such as model.d_model).
using SchedulerBuilder =
    std::function<std::shared_ptr<train::LRSchedule>(const Section& scheduler, const Config& config)>;

/// What a token loss needs to know of its task.
struct LossContext {
  int64_t num_classes = 0;
  int64_t padding_idx = 0;  ///< target value that contributes no loss (-100: none)
};
/// Builds a summed token loss from the `loss` section.
using LossBuilder = std::function<train::TokenLoss(const Section& loss, const LossContext& context)>;

/// The builder named by `section`'s `name` key; an unknown name is a ConfigError at that key
/// listing the registered names.
template <class Builder>
const Builder& lookup(const Registry<Builder>& registry, const Section& section) {
  const auto name = section.require<std::string>("name");
  if (!registry.contains(name)) {
    std::string known;
    for (const auto& n : registry.names()) known += (known.empty() ? "" : ", ") + n;
    section.fail("name", "unknown " + registry.kind() + " '" + name + "'; registered: " + known);
  }
  return registry.get(name);
}

Registry<ModelBuilder>& model_registry();
Registry<TaskBuilder>& task_registry();
Registry<OptimizerBuilder>& optimizer_registry();
Registry<SchedulerBuilder>& scheduler_registry();
Registry<LossBuilder>& loss_registry();

}  // namespace torchzoo::configs
