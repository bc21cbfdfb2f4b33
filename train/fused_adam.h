#pragma once
// Adam and AdamW whose step is ATen's fused kernel (at::_fused_adam_ /
// at::_fused_adamw_, what PyTorch's `Adam(fused=True)` calls): one vectorised
// pass per parameter that reads the gradient and both moments and writes the
// weight and moments, instead of torch::optim's eight elementwise ops per
// parameter. Options, parameter groups, state and its serialisation are
// torch::optim::Adam's / AdamW's, so checkpoints move freely between the two;
// the update agrees with theirs to rounding (tests/train/test_fused_adam.cpp).
// Sparse gradients fall back to the unfused step.
//
// Example:
//   FusedAdam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
//   loss.backward();
//   optimizer.step();
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

namespace torchzoo::train {

/// Adam with ATen's fused step (`at::_fused_adam_`, what PyTorch's `Adam(fused=True)` calls); options,
/// state and checkpoints are torch::optim::Adam's.
///
/// Example:
///   FusedAdam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
///   loss.backward();
///   optimizer.step();
class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

/// AdamW with ATen's fused step (`at::_fused_adamw_`); options, state and checkpoints are
/// torch::optim::AdamW's.
class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace torchzoo::train
