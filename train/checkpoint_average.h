#pragma once
// Checkpoint averaging: the element-wise mean of the weights of several
// checkpoints of one model, which smooths the last steps of training (Vaswani
// et al. 2017, section 6.1, average the last 5 or 20 checkpoints; Marian and
// OpenNMT ship the same tool).
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace torchzoo::train {

/// The model's parameters, then its buffers, each distinct tensor once (a tied
/// weight listed under two names appears once).
std::vector<torch::Tensor> state_tensors(const torch::nn::Module& model);

/// Loads each checkpoint into `model`, leaves the mean of their floating-point
/// parameters and buffers in `model` (other tensors from the last checkpoint), and
/// saves it as a weights-only checkpoint at `out_path` carrying the last one's
/// counters and config. The checkpoints must all fit `model`.
///
/// Example:
///   average_checkpoints({"runs/x/snapshots/step_0000001000.pt", "runs/x/snapshots/step_0000002000.pt"},
///                       *model, "runs/x/averaged.pt");
void average_checkpoints(const std::vector<std::string>& paths, torch::nn::Module& model, const std::string& out_path,
                         torch::Device device = torch::kCPU);

}  // namespace torchzoo::train
