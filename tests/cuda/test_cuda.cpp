// The device checks on a CUDA GPU ([cuda]; bench/gpu/run.sh runs them). Without one each test
// prints "SKIPPED: no CUDA device", which ctest reports as skipped rather than passed.
#include <catch2/catch.hpp>

#include "../support/device_checks.h"

using namespace torchzoo;

namespace {
const torch::Device kCuda(torch::kCUDA, 0);
}  // namespace

TEST_CASE("CUDA: a training step", "[cuda]") {
  if (testing::cuda_or_skip()) testing::check_training_step(kCuda);
}

TEST_CASE("CUDA: bf16 autocast", "[cuda][autocast]") {
  if (testing::cuda_or_skip()) testing::check_autocast_training(kCuda, "bf16");
}

TEST_CASE("CUDA: fp16 autocast with the loss scaler, checkpointed and resumed", "[cuda][autocast]") {
  if (testing::cuda_or_skip()) testing::check_autocast_training(kCuda, "fp16");
}

TEST_CASE("CUDA: a resumed run matches an uninterrupted one", "[cuda][checkpoint]") {
  // cuBLAS and atomics may reorder sums between runs: equal up to float rounding, not bit for bit.
  if (testing::cuda_or_skip()) testing::check_checkpoint_resume(kCuda, /*atol=*/1e-4);
}

TEST_CASE("CUDA: cached and uncached greedy decoding agree", "[cuda][decode]") {
  if (testing::cuda_or_skip()) testing::check_cached_decoding(kCuda);
}

TEST_CASE("CUDA: exported TorchScript loads and decodes on the GPU", "[cuda][torchscript]") {
  if (testing::cuda_or_skip()) testing::check_torchscript_on(kCuda);
}
