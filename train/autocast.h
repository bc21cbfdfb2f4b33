#pragma once
// Mixed precision for a scope, as Python's `with torch.autocast(device, dtype)`:
// ops on the autocast lists run in bf16 (or fp16) on that device, the rest in
// fp32; parameters and their gradients stay fp32.
#include <optional>
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace torchzoo::train {

/// "none" -> nullopt, "bf16" -> kBFloat16, "fp16" -> kHalf; throws on anything else.
std::optional<c10::ScalarType> autocast_dtype_from_string(const std::string& name);
/// The inverse of autocast_dtype_from_string: "none", "bf16" or "fp16".
std::string autocast_dtype_name(std::optional<c10::ScalarType> dtype);

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
