// The device checks on the CPU, in every run; tests/cuda runs them on a GPU.
#include <catch2/catch.hpp>

#include "../support/device_checks.h"

using namespace torchzoo;

TEST_CASE("CPU: a training step", "[device]") { testing::check_training_step(torch::kCPU); }

TEST_CASE("CPU: bf16 and fp16 autocast with the loss scaler", "[device][autocast]") {
  testing::check_autocast_training(torch::kCPU, "bf16");
  testing::check_autocast_training(torch::kCPU, "fp16");
}

TEST_CASE("CPU: a resumed run equals an uninterrupted one", "[device][checkpoint]") {
  testing::check_checkpoint_resume(torch::kCPU, /*atol=*/0.0);
}

TEST_CASE("CPU: cached and uncached greedy decoding agree", "[device][decode]") {
  testing::check_cached_decoding(torch::kCPU);
}

TEST_CASE("CPU: exported TorchScript decodes as the C++ model", "[device][torchscript]") {
  testing::check_torchscript_on(torch::kCPU);
}
