#pragma once
// The one place torchzoo includes fmt. LibTorch ships its own fmt headers, so
// the build puts the headers of the fmt we link first on the include path; this
// check turns any mix-up of the two copies into a compile error.
#include <fmt/format.h>
#include <fmt/ranges.h>

#if defined(TORCHZOO_FMT_VERSION) && FMT_VERSION != TORCHZOO_FMT_VERSION
#error "fmt headers do not match the fmt library torchzoo links (see cmake/TorchzooDependencies.cmake)"
#endif

#include <string>
#include <string_view>

namespace torchzoo::common {

/// `text` as it may appear in an error message: at most `max` bytes (cut at a UTF-8 character
/// boundary), with what was left out said, e.g. "aaaa… (5000000 bytes in all)".
inline std::string excerpt(std::string_view text, size_t max = 200) {
  if (text.size() <= max) return std::string(text);
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // not inside a character
  return fmt::format("{}\u2026 ({} bytes in all)", text.substr(0, end), text.size());
}

}  // namespace torchzoo::common
