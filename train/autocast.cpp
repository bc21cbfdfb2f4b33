#include "torchzoo/train/autocast.h"

#include <ATen/autocast_mode.h>

#include "torchzoo/common/check.h"

namespace torchzoo::train {

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
