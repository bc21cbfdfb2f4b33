#include "torchzoo/train/gemm_ceiling.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/format.h"
#include "torchzoo/train/autocast.h"

namespace torchzoo::train {
namespace {

/// What the figure depends on. The variables that pick another kernel path are part of it.
std::string machine_key(torch::Device device, torch::ScalarType dtype) {
  std::string key = fmt::format("{} | {} | {} | {} threads | torch {}", cpu_name(), device.str(),
                                c10::toString(dtype), torch::get_num_threads(), TORCH_VERSION);
  for (const char* variable : {"ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA"}) {
    if (const char* value = std::getenv(variable)) key += fmt::format(" | {}={}", variable, value);
  }
  return key;
}

void synchronize(torch::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace

std::string default_gemm_cache_path() {
  namespace fs = std::filesystem;
  fs::path folder;
  if (const char* dir = std::getenv("TORCHZOO_CACHE_DIR"); dir != nullptr && *dir != '\0') {
    folder = dir;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    folder = fs::path(xdg) / "torchzoo";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    folder = fs::path(home) / ".cache" / "torchzoo";
  } else {
    folder = fs::temp_directory_path() / "torchzoo";
  }
  return (folder / "gemm_ceiling.json").string();
}

double measure_gemm_flops(torch::Device device, torch::ScalarType dtype, int64_t size) {
  torch::NoGradGuard no_grad;
  // A generator of its own: measuring must not move the run's random stream (dropout, init).
  auto generator = at::make_generator<at::CPUGeneratorImpl>(/*seed=*/1);
  const auto operand = [&] { return torch::randn({size, size}, generator).to(device, dtype); };
  const auto a = operand(), b = operand();
  auto c = torch::mm(a, b);  // warm-up: the library picks its kernel, the threads start
  synchronize(device);
  using Clock = std::chrono::steady_clock;
  double best = 0.0, spent = 0.0;
  for (int run = 0; run < 10 && (run < 3 || spent < 0.5); ++run) {
    const auto start = Clock::now();
    c = torch::mm(a, b);
    synchronize(device);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    spent += seconds;
    if (seconds > 0) best = std::max(best, 2.0 * static_cast<double>(size * size) * size / seconds);
  }
  return best;
}

GemmCeiling gemm_ceiling(torch::Device device, torch::ScalarType dtype, const std::string& cache_path) {
  GemmCeiling ceiling;
  ceiling.key = machine_key(device, dtype);
  nlohmann::json cache = nlohmann::json::object();
  if (std::ifstream in(cache_path); in) {
    cache = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!cache.is_object()) cache = nlohmann::json::object();  // damaged: measured again, rewritten
  }
  if (auto it = cache.find(ceiling.key); it != cache.end() && it->is_number() && it->get<double>() > 0) {
    ceiling.flops_per_s = it->get<double>();
    ceiling.cached = true;
    return ceiling;
  }
  ceiling.flops_per_s = measure_gemm_flops(device, dtype);
  cache[ceiling.key] = ceiling.flops_per_s;
  try {
    std::filesystem::create_directories(std::filesystem::path(cache_path).parent_path());
    common::write_file_atomically(cache_path, cache.dump(2) + "\n", "GEMM ceiling cache");
  } catch (const std::exception&) {
    // A cache that cannot be written costs a measurement next time, nothing else.
  }
  return ceiling;
}

}  // namespace torchzoo::train
