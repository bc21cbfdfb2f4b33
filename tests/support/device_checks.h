#pragma once
// What a device must do for torchzoo's training and deployment paths, as
// checks that take the device: the CPU runs them in every test run
// (tests/train/test_device_checks.cpp), a CUDA GPU in the [cuda] tests
// (tests/cuda/test_cuda.cpp) when one is present. Each trains configs/copy_task_tiny.yaml.
#include <string>

#include <torch/types.h>

namespace torchzoo::testing {

/// Two epochs on `device`: the weights live there, the loss falls, nothing is non-finite.
void check_training_step(torch::Device device);
/// The same under autocast "bf16" or "fp16" (fp16 with its loss scaler, whose state is saved).
void check_autocast_training(torch::Device device, const std::string& autocast);
/// Two epochs straight and one, a resume, and one more give the same weights (within `atol`).
void check_checkpoint_resume(torch::Device device, double atol);
/// A trained copy model decodes the same tokens with and without the key/value cache.
void check_cached_decoding(torch::Device device);
/// The exported TorchScript module, loaded onto `device`, decodes as the C++ model does there.
void check_torchscript_on(torch::Device device);

/// A CUDA device when one is present; otherwise prints "SKIPPED: no CUDA device" (which ctest's
/// SKIP_REGULAR_EXPRESSION reports as skipped, not passed) and returns false.
bool cuda_or_skip();

}  // namespace torchzoo::testing
