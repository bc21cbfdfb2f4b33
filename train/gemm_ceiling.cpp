#include "torchzoo/train/gemm_ceiling.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"
#include "torchzoo/common/format.h"
#include "torchzoo/layers/detail/onednn_ops.h"
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

using Clock = std::chrono::steady_clock;

/// The shortest time of `run` over 3 to 10 calls (at least half a second of them), after one warm-up.
template <typename Run>
double best_seconds(torch::Device device, Run&& run) {
  run();  // warm-up: the library picks its kernel, the threads start
  synchronize(device);
  double best = std::numeric_limits<double>::infinity(), spent = 0.0;
  for (int i = 0; i < 10 && (i < 3 || spent < 0.5); ++i) {
    const auto start = Clock::now();
    run();
    synchronize(device);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    spent += seconds;
    best = std::min(best, seconds);
  }
  return best;
}

bool onednn_float_cpu(torch::Device device, torch::ScalarType dtype) {
  return device.is_cpu() && dtype == torch::kFloat32 && layers::onednn_linear_available();
}

/// The cache file as a JSON object (empty where it is missing or damaged).
nlohmann::json read_cache(const std::string& path) {
  nlohmann::json cache = nlohmann::json::object();
  if (std::ifstream in(path); in) {
    cache = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!cache.is_object()) cache = nlohmann::json::object();  // damaged: measured again, rewritten
  }
  return cache;
}

void write_cache(const std::string& path, const nlohmann::json& cache) {
  try {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    common::write_file_atomically(path, cache.dump(2) + "\n", "GEMM ceiling cache");
  } catch (const std::exception&) {
    // A cache that cannot be written costs a measurement next time, nothing else.
  }
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
  double seconds = best_seconds(device, [&] { return torch::mm(a, b); });
  if (onednn_float_cpu(device, dtype)) {
    const auto b_t = b.t();  // oneDNN's linear takes the [out, in] weight: a b = linear(a, b^T)
    seconds = std::min(seconds, best_seconds(device, [&] { return torchzoo::detail::onednn_linear(a, b_t); }));
  }
  return 2.0 * static_cast<double>(size * size) * size / seconds;
}

double measure_linear_flops(layers::LinearKernel kernel, int64_t rows, int64_t width) {
  torch::NoGradGuard no_grad;
  const bool onednn = kernel == layers::LinearKernel::kOneDnn;
  TORCHZOO_CHECK(!onednn || layers::onednn_linear_available(), "linear kernel onednn: this LibTorch has none");
  auto generator = at::make_generator<at::CPUGeneratorImpl>(/*seed=*/1);
  const auto hidden = 4 * width;
  const auto x = torch::randn({rows, width}, generator), h = torch::randn({rows, hidden}, generator);
  const auto w_1 = torch::randn({hidden, width}, generator), w_2 = torch::randn({width, hidden}, generator);
  // y = x W^T; dL/dx = g W; dL/dW = g^T x, for both of a feed-forward's linears
  const auto step = [&](const torch::Tensor& in, const torch::Tensor& weight, const torch::Tensor& grad) {
    if (onednn) {
      torchzoo::detail::onednn_linear(in, weight);
      torchzoo::detail::onednn_linear(grad, weight.t());
      torch::mm(grad.t(), in);  // the weight's gradient stays BLAS (layers/linear_kernel.h)
    } else {
      torch::mm(in, weight.t());
      torch::mm(grad, weight);
      torch::mm(grad.t(), in);
    }
  };
  const double seconds = best_seconds(torch::kCPU, [&] {
    step(x, w_1, h);  // [rows, width] -> [rows, hidden]
    step(h, w_2, x);  // and back
  });
  return 2 * 3 * 2.0 * static_cast<double>(rows * width) * hidden / seconds;
}

GemmCeiling gemm_ceiling(torch::Device device, torch::ScalarType dtype, const std::string& cache_path) {
  GemmCeiling ceiling;
  ceiling.key = machine_key(device, dtype);
  if (onednn_float_cpu(device, dtype)) ceiling.key += " | best of blas and onednn";
  auto cache = read_cache(cache_path);
  if (auto it = cache.find(ceiling.key); it != cache.end() && it->is_number() && it->get<double>() > 0) {
    ceiling.flops_per_s = it->get<double>();
    ceiling.cached = true;
    return ceiling;
  }
  ceiling.flops_per_s = measure_gemm_flops(device, dtype);
  cache[ceiling.key] = ceiling.flops_per_s;
  write_cache(cache_path, cache);
  return ceiling;
}

std::string LinearKernelChoice::describe() const {
  return fmt::format("linear kernel {} ({})", layers::to_string(kernel), reason);
}

LinearKernelChoice choose_linear_kernel(const std::string& setting, torch::Device device,
                                        std::optional<torch::ScalarType> autocast, const std::string& cache_path) {
  LinearKernelChoice choice;
  const bool applies = device.is_cpu() && !autocast && layers::onednn_linear_available();
  const std::string why_not = !device.is_cpu() ? fmt::format("the linears run on {}", device.str())
                              : autocast ? fmt::format("autocast {} casts through at::linear", c10::toString(*autocast))
                                         : std::string("this LibTorch has no oneDNN linear");
  if (setting != "auto") {
    choice.kernel = layers::parse_linear_kernel(setting);
    TORCHZOO_CHECK(choice.kernel == layers::LinearKernel::kBlas || applies,
                   "train.linear_kernel onednn: cannot apply here, {}; use blas or auto", why_not);
    choice.reason = "train.linear_kernel " + setting;
    return choice;
  }
  if (!applies) {
    choice.reason = "auto: " + why_not;
    return choice;
  }
  const auto key = machine_key(device, torch::kFloat32) + " | training linears, onednn over blas";
  // Also remembered by the process: a run asks more than once (its options, its first log line), and
  // where the cache file cannot be written a second measurement could choose differently.
  static std::mutex mutex;
  static std::map<std::string, double> this_process;  // cache path + key -> speedup
  const std::lock_guard<std::mutex> lock(mutex);
  double& speedup = this_process[cache_path + "\n" + key];
  std::string measured = "cached";
  if (speedup <= 0) {
    auto cache = read_cache(cache_path);
    if (auto it = cache.find(key); it != cache.end() && it->is_number() && it->get<double>() > 0) {
      speedup = it->get<double>();
    } else {
      const double blas = measure_linear_flops(layers::LinearKernel::kBlas);
      const double onednn = measure_linear_flops(layers::LinearKernel::kOneDnn);
      speedup = onednn / blas;
      measured = fmt::format("onednn {:.0f}, blas {:.0f} GFLOP/s", onednn / 1e9, blas / 1e9);
      cache[key] = speedup;
      write_cache(cache_path, cache);
    }
  }
  // A margin, so that a tie measured on a noisy machine keeps PyTorch's default.
  choice.kernel = speedup > 1.03 ? layers::LinearKernel::kOneDnn : layers::LinearKernel::kBlas;
  choice.reason = fmt::format("auto: onednn {:.2f}x blas on this CPU, {}", speedup, measured);
  return choice;
}

}  // namespace torchzoo::train
