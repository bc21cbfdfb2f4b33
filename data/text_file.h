#pragma once
// Whole UTF-8 text files as the corpus readers and writers handle them: read
// at once, split into lines, and written through a temporary file renamed
// into place, so that a reader never sees half a file and a failed write
// leaves nothing behind. `what` names the caller in error messages
// ("parallel text", "labeled text", ...).
#include <cstdint>
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

/// Writes `content` to `path`.tmp, then renames it to `path`; on any error the
/// temporary file is removed and the error names `what` and the file.
void write_file_atomically(const std::string& path, std::string_view content, std::string_view what);

/// Number of Unicode code points in UTF-8 `text` (the bytes that are not continuation bytes).
int64_t utf8_length(std::string_view text);

/// Whether `text` holds a tab, '\n' or '\r' (which a TSV field cannot carry).
bool has_tab_or_line_break(std::string_view text);

}  // namespace torchzoo::data
