#pragma once
// The name -> builder registries of the sections every family shares:
// `optimizer.name`, `scheduler.name` and `loss.name` (`model.name` and
// `data.name` pick a model family: families/registry.h). They live here, next
// to the YAML reader, because each builder turns a YAML section into Options;
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
#include "torchzoo/train/tasks/task.h"  // TokenLoss

namespace torchzoo::configs {

/// Builds an optimizer over `model`'s parameters from the `optimizer` section.
using OptimizerBuilder =
    std::function<std::unique_ptr<torch::optim::Optimizer>(const Section& optimizer, const torch::nn::Module& model)>;
/// What a schedule may take from the model it trains.
struct ScheduleContext {
  int64_t model_size = 0;  ///< the built model's width (d_model; a ViT's embed_dim): Noam's default model_size
};
/// Builds a schedule from the `scheduler` section.
using SchedulerBuilder =
    std::function<std::shared_ptr<train::LRSchedule>(const Section& scheduler, const ScheduleContext& context)>;

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
    section.fail("name", "unknown " + registry.kind() + " '" + common::excerpt(name) + "'; registered: " + known);
  }
  return registry.get(name);
}

Registry<OptimizerBuilder>& optimizer_registry();
Registry<SchedulerBuilder>& scheduler_registry();
Registry<LossBuilder>& loss_registry();

}  // namespace torchzoo::configs
