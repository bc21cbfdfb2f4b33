#pragma once
// The `train` section: the trainer's options and the run's seed and threads.
// Defaults are those of train::TrainerOptions and configs::RunOptions.
#include <cstdint>
#include <string>

#include <torch/arg.h>

#include "torchzoo/configs/config.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/gemm_ceiling.h"
#include "torchzoo/train/trainer.h"

namespace torchzoo::configs {

/// What a run sets up before the trainer starts.
struct RunOptions {
  /// train.seed: seeds the initial weights and, unless the data section has its own, the data order.
  TORCH_ARG(uint64_t, seed) = 1;
  /// train.threads: intra-op threads; 0 keeps LibTorch's default.
  TORCH_ARG(int64_t, threads) = 0;
  /// train.tensorboard: also write the metrics as TensorBoard event files into the output folder.
  TORCH_ARG(bool, tensorboard) = false;
};

/// train.seed, train.threads and train.tensorboard (the section may be absent: the defaults).
RunOptions read_run_options(const Config& config);

/// train.distributed: how a distributed run connects and buckets its gradients (used only when
/// the launcher's environment makes the run distributed).
struct DistributedConfig {
  train::DistributedOptions process_group;
  train::DataParallelOptions data_parallel;
};
DistributedConfig read_distributed_config(const Config& config);

/// train.autocast (auto, none, bf16 or fp16; default auto) resolved for `device`; a non-empty
/// `flag` (a command's --autocast) takes its place. Also reads configs without a train section.
train::AutocastChoice read_autocast(const Config& config, torch::Device device, const std::string& flag = "");

/// train.linear_kernel (auto, blas or onednn; default auto) resolved for `device` and `autocast`
/// (train/gemm_ceiling.h: auto measures once per machine, cached).
train::LinearKernelChoice read_linear_kernel(const Config& config, torch::Device device,
                                             std::optional<c10::ScalarType> autocast);

/// The trainer's options from the `train` section, which it finishes (unknown keys are errors);
/// out_dir defaults to `default_out_dir`. Also checks train.device names a usable device.
train::TrainerOptions read_trainer_options(const Config& config, const std::string& default_out_dir);

}  // namespace torchzoo::configs
