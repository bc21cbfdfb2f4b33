#include "torchzoo/train/checkpoint_average.h"

#include "torchzoo/common/check.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/train/checkpoint.h"

namespace torchzoo::train {

std::vector<torch::Tensor> state_tensors(const torch::nn::Module& model) {
  auto tensors = layers::unique_parameters(model);
  for (const auto& buffer : model.buffers()) tensors.push_back(buffer);
  return tensors;
}

void average_checkpoints(const std::vector<std::string>& paths, torch::nn::Module& model, const std::string& out_path,
                         torch::Device device) {
  TORCHZOO_CHECK(!paths.empty(), "average_checkpoints: no checkpoints given");
  std::vector<torch::Tensor> sums;
  CheckpointState last;
  for (const auto& path : paths) {
    last = load_checkpoint(path, model, nullptr, device);
    const auto tensors = state_tensors(model);
    if (sums.empty()) {
      for (const auto& t : tensors) {
        sums.push_back(t.is_floating_point() ? t.detach().to(torch::kDouble, false, /*copy=*/true)
                                             : t.detach().clone());
      }
    } else {
      for (size_t i = 0; i < tensors.size(); ++i) {
        sums[i] = tensors[i].is_floating_point() ? sums[i] + tensors[i].detach().to(torch::kDouble)
                                                 : tensors[i].detach().clone();
      }
    }
  }
  torch::NoGradGuard no_grad;
  auto tensors = state_tensors(model);
  const auto count = static_cast<double>(paths.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].is_floating_point()) tensors[i].copy_(sums[i] / count);
  }
  save_checkpoint(out_path, model, nullptr, last);
}

}  // namespace torchzoo::train
