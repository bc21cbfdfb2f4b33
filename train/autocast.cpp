#include "torchzoo/train/autocast.h"

#include <ATen/autocast_mode.h>
#include <ATen/cpu/Utils.h>

#if defined(TORCHZOO_WITH_CUDA)
#include <ATen/cuda/CUDAContext.h>
#endif

#include <fstream>
#include <map>

#include "torchzoo/common/check.h"

#if __has_include(<torch/headeronly/version.h>)
#include <torch/headeronly/version.h>
#endif

namespace torchzoo::train {
namespace {

// at::cpu::get_cpu_capabilities (cpuinfo's flags, as torch.backends.cpu reports them) is in
// LibTorch 2.13; older builds read the kernel's flags for the same names.
#if defined(TORCH_VERSION_MAJOR) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 13))
#define TORCHZOO_HAVE_CPU_CAPABILITIES 1
#endif

struct CpuFeatures {
  std::string name;
  std::map<std::string, bool> flags;  ///< amx_bf16, avx512_bf16, amx_fp16, avx512_fp16
};

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
    const char* wanted[] = {"amx_bf16", "avx512_bf16", "amx_fp16", "avx512_fp16"};
#if defined(TORCHZOO_HAVE_CPU_CAPABILITIES)
    const auto capabilities = at::cpu::get_cpu_capabilities();
    for (const char* flag : wanted) {
      auto it = capabilities.find(flag);
      f.flags[flag] = it != capabilities.end() && it->second.isBool() && it->second.toBool();
    }
    if (auto it = capabilities.find("cpu_name"); it != capabilities.end() && it->second.isString()) {
      f.name = it->second.toStringRef();
    }
#else
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line, flags;
    while (std::getline(cpuinfo, line) && (f.name.empty() || flags.empty())) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      if (line.rfind("model name", 0) == 0 && f.name.empty()) f.name = line.substr(colon + 2);
      if (line.rfind("flags", 0) == 0 && flags.empty()) flags = " " + line.substr(colon + 1) + " ";
    }
    for (const char* flag : wanted) f.flags[flag] = flags.find(fmt::format(" {} ", flag)) != std::string::npos;
#endif
    if (f.name.empty()) f.name = "this CPU";
    return f;
  }();
  return features;
}

NativeSupport cpu_support(c10::ScalarType dtype) {
  const auto& cpu = cpu_features();
  const bool bf16 = dtype == c10::ScalarType::BFloat16;
  const std::string amx = bf16 ? "amx_bf16" : "amx_fp16";
  const std::string avx512 = bf16 ? "avx512_bf16" : "avx512_fp16";
  const std::string amx_name = bf16 ? "AMX-BF16" : "AMX-FP16";
  const std::string avx512_name = bf16 ? "AVX512-BF16" : "AVX512-FP16";
  if (cpu.flags.at(amx)) return {true, fmt::format("{} has {}", cpu.name, amx_name)};
  if (cpu.flags.at(avx512)) return {true, fmt::format("{} has {}", cpu.name, avx512_name)};
  return {false, fmt::format("{} has neither {} nor {}", cpu.name, amx_name, avx512_name)};
}

NativeSupport cuda_support(c10::Device device, c10::ScalarType dtype) {
  const int wanted_major = dtype == c10::ScalarType::BFloat16 ? 8 : 7;
#if defined(TORCHZOO_WITH_CUDA)
  const auto index = device.has_index() ? device.index() : at::cuda::current_device();
  const auto* properties = at::cuda::getDeviceProperties(index);
  const bool native = properties->major >= wanted_major;
  return {native, fmt::format("{} has compute capability {}.{} ({} {}.0)", properties->name, properties->major,
                              properties->minor, native ? "at least" : "below", wanted_major)};
#else
  return {false, fmt::format("this LibTorch build has no CUDA support, so {} cannot run (compute capability {}.0 "
                             "needed for native {})",
                             device.str(), wanted_major, c10::toString(dtype))};
#endif
}

}  // namespace

std::optional<c10::ScalarType> autocast_dtype_from_string(const std::string& name) {
  if (name == "none") return std::nullopt;
  if (name == "bf16") return c10::ScalarType::BFloat16;
  if (name == "fp16") return c10::ScalarType::Half;
  TORCHZOO_CHECK(false, "unknown autocast dtype '{}'; expected none, bf16 or fp16", name);
}

std::string autocast_dtype_name(std::optional<c10::ScalarType> dtype) {
  if (!dtype) return "none";
  if (*dtype == c10::ScalarType::BFloat16) return "bf16";
  if (*dtype == c10::ScalarType::Half) return "fp16";
  TORCHZOO_CHECK(false, "autocast dtype {} has no name; expected bf16 or fp16", c10::toString(*dtype));
}

const std::string& cpu_name() { return cpu_features().name; }

NativeSupport native_support(c10::Device device, c10::ScalarType dtype) {
  TORCHZOO_CHECK(dtype == c10::ScalarType::BFloat16 || dtype == c10::ScalarType::Half,
                 "native_support: expected bf16 or fp16, got {}", c10::toString(dtype));
  if (device.is_cuda()) return cuda_support(device, dtype);
  TORCHZOO_CHECK(device.is_cpu(), "native_support: expected a CPU or CUDA device, got {}", device.str());
  return cpu_support(dtype);
}

std::string AutocastChoice::describe() const {
  return fmt::format("autocast {} ({})", autocast_dtype_name(dtype), reason);
}

AutocastChoice choose_autocast(const std::string& setting, c10::Device device, const std::string& source) {
  TORCHZOO_CHECK(setting == "auto" || setting == "none" || setting == "bf16" || setting == "fp16",
                 "unknown autocast setting '{}'; expected auto, none, bf16 or fp16", setting);
  AutocastChoice choice;
  if (setting == "auto") {
    const auto bf16 = native_support(device, c10::ScalarType::BFloat16);
    if (bf16.native) choice.dtype = c10::ScalarType::BFloat16;
    choice.reason = bf16.native ? fmt::format("auto: {}", bf16.why)
                                : fmt::format("auto: {}; emulated bf16 would be slower than fp32", bf16.why);
    return choice;
  }
  choice.dtype = autocast_dtype_from_string(setting);
  choice.reason = fmt::format("{} {}", source, setting);
  if (choice.dtype) {
    const auto support = native_support(device, *choice.dtype);
    if (!support.native) {
      choice.warning = fmt::format(
          "warning: autocast {} on {}: {}, so it is emulated and likely several times slower than fp32 (measured "
          "15-17x for bf16 on an AVX2-only CPU); autocast auto or none picks fp32 here",
          setting, device.str(), support.why);
    }
  }
  return choice;
}

AutocastGuard::AutocastGuard(c10::Device device, std::optional<c10::ScalarType> dtype) {
  if (!dtype) return;
  active_ = true;
  device_type_ = device.type();
  previous_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  previous_dtype_ = at::autocast::get_autocast_dtype(device_type_);
  at::autocast::set_autocast_enabled(device_type_, true);
  at::autocast::set_autocast_dtype(device_type_, *dtype);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  // Leaving the outermost autocast region frees the casted copies of the weights, as Python does.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_type_, previous_enabled_);
  at::autocast::set_autocast_dtype(device_type_, previous_dtype_);
}

}  // namespace torchzoo::train
