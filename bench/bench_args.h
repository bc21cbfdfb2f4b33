#pragma once
// What the C++ benchmark executables share: the options every side-by-side
// benchmark takes (the Python peers take the same), and JSON numbers.
#include <CLI/CLI.hpp>
#include <torch/cuda.h>
#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "torchzoo/common/format.h"
#include "torchzoo/layers/linear_kernel.h"

namespace torchzoo::bench {

struct CommonArgs {
  int64_t steps = 20;
  int64_t warmup_steps = 3;
  int threads = 2;
  uint64_t seed = 1;
  int fused = 1;
  bool json = false;
  std::string device = "cpu";
  std::string linear_kernel = "blas";
};

/// Waits for the work queued on `device` (a CUDA device runs asynchronously: a timer read without
/// this measures how fast work was queued, not done). Nothing to wait for on the CPU.
inline void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

/// --steps, --warmup-steps, --threads, --seed, --fused, --json, --device and --linear-kernel. Integer ranges rather
/// than CLI::PositiveNumber, whose message prints the largest double in full.
inline void add_common_options(CLI::App& app, CommonArgs& args) {
  constexpr auto kMaxInt = std::numeric_limits<int>::max();
  constexpr auto kMaxInt64 = std::numeric_limits<int64_t>::max();
  app.add_option("--steps", args.steps, "timed optimizer steps")->check(CLI::Range(int64_t{1}, kMaxInt64));
  app.add_option("--warmup-steps", args.warmup_steps, "untimed optimizer steps first")
      ->check(CLI::Range(int64_t{0}, kMaxInt64));
  app.add_option("--threads", args.threads, "torch::set_num_threads")->check(CLI::Range(1, kMaxInt));
  app.add_option("--seed", args.seed, "init seed and batch stream seed")->check(CLI::Range(int64_t{0}, kMaxInt64));
  app.add_option("--fused", args.fused, "1: fused scaled-dot-product attention, 0: the matmul/softmax math")
      ->check(CLI::IsMember({0, 1}));
  app.add_flag("--json", args.json, "print only a JSON object on stdout");
  app.add_option("--device", args.device, "cpu, cuda or cuda:N (timed regions synchronize the device)");
  app.add_option("--linear-kernel", args.linear_kernel,
                 "the CPU float32 linears' kernel: blas (at::linear, as Python's nn.Linear) or onednn "
                 "(layers/linear_kernel.h)")
      ->check(CLI::IsMember({"blas", "onednn"}));
}

/// Sets the process-wide linear kernel --linear-kernel names; "-onednn" for the implementation's name
/// where it is not the default.
inline std::string apply_linear_kernel(const CommonArgs& args) {
  const auto kernel = layers::parse_linear_kernel(args.linear_kernel);
  layers::set_linear_kernel(kernel);
  return kernel == layers::LinearKernel::kBlas ? "" : "-" + layers::to_string(kernel);
}

/// A JSON number; NaN and infinities are not JSON, so they become null.
inline std::string json_number(double x) { return std::isfinite(x) ? fmt::format("{}", x) : "null"; }

}  // namespace torchzoo::bench
