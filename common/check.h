#pragma once
#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include "torchzoo/common/format.h"

/// TORCH_CHECK with an fmt message, formatted only when the check fails:
///   TORCHZOO_CHECK(x.dim() == 3, "Encoder: expected x of shape [B, T, d_model], got {}", x.sizes());
#define TORCHZOO_CHECK(cond, ...) TORCH_CHECK((cond), ::fmt::format(__VA_ARGS__))

namespace torchzoo::detail {
/// "[2, 3, 4]" for an IntArrayRef, for error messages.
inline std::string shape_str(c10::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }
}  // namespace torchzoo::detail
