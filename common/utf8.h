#pragma once
// UTF-8, strictly as Python's utf-8 codec reads it: no overlong forms, no
// surrogates, nothing above U+10FFFF. Used by BLEU's tokenizers and by the
// corpus tools' HTML entity decoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace torchzoo::common {

/// A code point decoded from UTF-8; `length` 0 marks an invalid byte.
struct CodePoint {
  char32_t value = 0;
  size_t length = 0;
};

/// The code point starting at byte `i` of `s` (i < s.size()), or length 0 where the bytes there
/// are not valid UTF-8.
///
/// Example:
///   decode_utf8("\xc3\xa4", 0)  // {U+00E4, 2}
CodePoint decode_utf8(std::string_view s, size_t i);

/// Appends the UTF-8 encoding of `cp`, which must be a Unicode scalar value (<= U+10FFFF, no surrogate).
void append_utf8(std::string& out, char32_t cp);

/// Whether `cp` is a Unicode scalar value: at most U+10FFFF and not a surrogate.
bool is_scalar_value(char32_t cp);

/// Byte offset of the first invalid UTF-8 sequence in `s`, or npos.
size_t find_invalid_utf8(std::string_view s);

/// Number of code points in UTF-8 `text` (the bytes that are not continuation bytes).
int64_t utf8_length(std::string_view text);

}  // namespace torchzoo::common
