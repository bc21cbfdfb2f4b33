#pragma once
#include <string>

#include <torch/types.h>

namespace torchzoo::train {

/// "cpu", "cuda", "cuda:N" or "auto" (CUDA when available, else CPU). Asking
/// for CUDA on a machine without it is an error that says so.
torch::Device select_device(const std::string& name);

}  // namespace torchzoo::train
