#pragma once
// From a config to the objects a run needs: the model, the task (data, loss),
// the optimizer, the schedule and the trainer options. Every section is read
// and checked here before anything is written, so a bad config fails with
// nothing half-made on disk.
//
// Top-level sections: model, data, loss, optimizer, scheduler, train, sample.
#include <memory>
#include <string>

#include "torchzoo/configs/config.h"
#include "torchzoo/families/family.h"
#include "torchzoo/train/lr_schedule.h"
#include "torchzoo/train/tasks/task.h"
#include "torchzoo/train/trainer.h"

namespace torchzoo::families {

/// Everything `torchzoo train` needs from a config (build_experiment): the model with its family,
/// the task, the optimizer, the schedule and the trainer options.
struct Experiment {
  std::shared_ptr<FamilyModel> family_model;
  std::shared_ptr<torch::nn::Module> model;  ///< family_model->module()
  std::string model_name;
  std::unique_ptr<train::Task> task;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<train::LRScheduler> scheduler;
  train::TrainerOptions trainer;
  uint64_t seed = 1;
  int64_t threads = 0;  ///< 0: LibTorch's default
  bool tensorboard = false;  ///< train.tensorboard: write TensorBoard event files too
};

/// The model named by model.name, built by its family (seeded with train.seed so the initial
/// weights are reproducible). With model.init_from (any model), the weights of that safetensors
/// file then replace the initial ones (train/export/safetensors.h; a path relative to the current
/// directory, as data paths are): its names must be exactly the model's parameters and buffers,
/// with their shapes; the family may adapt them first (a vision_transformer's pos_embed from
/// another patch grid is resampled to the model's).
///
/// Example (fine-tune weights trained in Python):
///   model: {name: vision_transformer, preset: vit_mini, init_from: runs/pretrained/vit.safetensors}
///
/// with_init_from false skips that file: for a model whose weights a checkpoint then replaces.
std::shared_ptr<FamilyModel> build_family_model(const Config& config, bool with_init_from = true);

/// build_family_model(config, with_init_from)->module(): for callers that need only the module.
std::shared_ptr<torch::nn::Module> build_model(const Config& config, bool with_init_from = true);

/// The model of a checkpoint, built from the config saved in it (`config`), with the checkpoint's
/// weights, on `device`, in eval mode.
std::shared_ptr<FamilyModel> load_trained(const Config& config, const std::string& checkpoint, torch::Device device);

/// Everything for `torchzoo train`; checks that no top-level section is unknown.
Experiment build_experiment(const Config& config);

/// `runs/<config file stem>` unless train.out_dir says otherwise.
std::string default_out_dir(const Config& config);

}  // namespace torchzoo::families
