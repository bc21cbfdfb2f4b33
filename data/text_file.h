#pragma once
// Whole UTF-8 text files as the corpus readers handle them: read at once and
// split into lines (common/atomic_write.h writes them). `what` names the caller
// in error messages ("parallel text", "labeled text", ...).
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace torchzoo::data {

/// The bytes of the file at `path`. Errors say "<what>: file '<path>' does not exist" (or cannot be read).
std::string read_text_file(const std::string& path, std::string_view what);

/// The lines of `content`: split at '\n', a '\r' before it removed, a leading
/// UTF-8 byte-order mark skipped. A final line without '\n' counts; the empty
/// "line" after a final '\n' does not. The views point into `content`.
std::vector<std::string_view> split_lines(std::string_view content);

/// What a corpus reader does with a line that is not valid UTF-8: stop with an error naming the
/// file and line (the default), or skip the line (or pair) and count it.
enum class InvalidUtf8 { kError, kSkip };

/// Applies an InvalidUtf8 policy to the lines of one file.
class Utf8LineCheck {
 public:
  Utf8LineCheck(std::string_view path, InvalidUtf8 policy) : path_(path), policy_(policy) {}
  /// Whether line `number` (1-based) is valid UTF-8; under kError an invalid one throws
  /// "<path>:<number>: not valid UTF-8 (byte 0x.. at column ..)".
  bool accept(std::string_view line, size_t number);
  /// Lines skipped so far (kSkip).
  int64_t skipped() const { return skipped_; }

 private:
  std::string path_;
  InvalidUtf8 policy_;
  int64_t skipped_ = 0;
};

/// The lines of `in` without their line ends ('\n' or "\r\n"), e.g. stdin of `torchzoo translate`.
std::vector<std::string> read_lines(std::istream& in);

/// Whether `text` holds a tab, '\n' or '\r' (which a TSV field cannot carry).
bool has_tab_or_line_break(std::string_view text);

}  // namespace torchzoo::data
