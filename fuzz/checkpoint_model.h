#pragma once
// The model and optimizer the checkpoint target loads into, and the seed
// corpus's checkpoints were saved from (make_seeds.cpp): a Linear with a buffer.
#include <memory>

#include <torch/torch.h>

namespace torchzoo::fuzz {

struct CheckpointModelImpl : torch::nn::Module {
  CheckpointModelImpl() {
    proj = register_module("proj", torch::nn::Linear(4, 3));
    register_buffer("running_mean", torch::zeros({3}));
  }
  torch::nn::Linear proj{nullptr};
};
TORCH_MODULE(CheckpointModel);

inline std::unique_ptr<torch::optim::Adam> checkpoint_optimizer(CheckpointModel& model) {
  return std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
}

}  // namespace torchzoo::fuzz
