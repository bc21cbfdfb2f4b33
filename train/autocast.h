#pragma once
// Mixed precision for a scope, as Python's `with torch.autocast(device, dtype)`:
// ops on the autocast lists run in bf16 (or fp16) on that device, the rest in
// fp32; parameters and their gradients stay fp32.
//
// Which precision to use depends on the hardware: bf16 pays only where it runs
// natively (CPU: AMX or AVX512-BF16; CUDA: compute capability 8.0 or newer).
// Elsewhere ATen emulates it and a step is many times slower than in fp32
// (measured: 15-17x on an AVX2-only AMD EPYC), so `auto` picks fp32 there.
#include <optional>
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace torchzoo::train {

/// "none" -> nullopt, "bf16" -> kBFloat16, "fp16" -> kHalf; throws on anything else ("auto" included:
/// resolve it with choose_autocast).
std::optional<c10::ScalarType> autocast_dtype_from_string(const std::string& name);
/// The inverse of autocast_dtype_from_string: "none", "bf16" or "fp16".
std::string autocast_dtype_name(std::optional<c10::ScalarType> dtype);

/// The CPU's model name, as cpuinfo reports it (e.g. "AMD EPYC"; "this CPU" when unknown).
const std::string& cpu_name();

/// Whether a device computes in a reduced-precision type natively, and what says so.
struct NativeSupport {
  bool native = false;
  std::string why;  ///< e.g. "AMD EPYC has neither AMX-BF16 nor AVX512-BF16"
};

/// bf16 (kBFloat16) or fp16 (kHalf) support of `device`: for the CPU what ATen's cpuinfo reports
/// (AMX-BF16 / AVX512-BF16; AMX-FP16 / AVX512-FP16), for CUDA the compute capability (bf16: 8.0+,
/// fp16: 7.0+, the tensor-core generations).
NativeSupport native_support(c10::Device device, c10::ScalarType dtype);

/// A resolved autocast setting.
struct AutocastChoice {
  std::optional<c10::ScalarType> dtype;  ///< nullopt: fp32
  std::string reason;                    ///< why, for the first log line
  std::string warning;                   ///< non-empty when the explicit choice will be slow here
  /// "autocast bf16 (auto: ...)" or "autocast none (train.autocast none)".
  std::string describe() const;
};

/// Resolves "auto", "none", "bf16" or "fp16" for `device`. auto: bf16 where it is native, else fp32.
/// An explicit reduced precision that the device only emulates comes with a warning. `source` names
/// where an explicit setting came from, for the reason ("train.autocast", "--autocast").
AutocastChoice choose_autocast(const std::string& setting, c10::Device device,
                               const std::string& source = "set explicitly:");

/// Enables autocast for `device`'s type with `dtype` until destroyed (nullopt: does nothing).
class AutocastGuard {
 public:
  AutocastGuard(c10::Device device, std::optional<c10::ScalarType> dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_type_ = c10::DeviceType::CPU;
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Float;
};

}  // namespace torchzoo::train
