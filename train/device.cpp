#include "torchzoo/train/device.h"

#include <torch/cuda.h>

#include "torchzoo/common/check.h"

namespace torchzoo::train {

torch::Device select_device(const std::string& name) {
  if (name == "auto") {
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  }
  TORCHZOO_CHECK(name == "cpu" || name.rfind("cuda", 0) == 0,
                 "unknown device '{}'; expected one of: cpu, cuda, cuda:N, auto", name);
  torch::Device device(name);
  TORCHZOO_CHECK(!device.is_cuda() || torch::cuda::is_available(),
                 "device '{}' requested but CUDA is not available (this LibTorch build or machine has no GPU); "
                 "use --device cpu or auto",
                 name);
  return device;
}

}  // namespace torchzoo::train
