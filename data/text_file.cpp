#include "torchzoo/data/text_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "torchzoo/common/check.h"
#include "torchzoo/common/utf8.h"

namespace torchzoo::data {

std::string read_text_file(const std::string& path, std::string_view what) {
  TORCHZOO_CHECK(std::filesystem::is_regular_file(path), "{}: file '{}' does not exist", what, path);
  std::ifstream in(path, std::ios::binary);
  TORCHZOO_CHECK(in.good(), "{}: cannot open '{}'", what, path);
  std::ostringstream content;
  content << in.rdbuf();
  TORCHZOO_CHECK(!in.bad(), "{}: read error in '{}'", what, path);
  return content.str();
}

bool Utf8LineCheck::accept(std::string_view line, size_t number) {
  const size_t bad = common::find_invalid_utf8(line);
  if (bad == std::string_view::npos) return true;
  TORCHZOO_CHECK(policy_ == InvalidUtf8::kSkip,
                 "{}:{}: not valid UTF-8 (byte 0x{:02x} at column {}); convert the file to UTF-8 (iconv), or set "
                 "data.invalid_utf8: skip to leave such lines out",
                 path_, number, static_cast<unsigned char>(line[bad]), bad + 1);
  ++skipped_;
  return false;
}

std::vector<std::string_view> split_lines(std::string_view content) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (content.substr(0, kBom.size()) == kBom) content.remove_prefix(kBom.size());
  std::vector<std::string_view> lines;
  while (!content.empty()) {
    const size_t end = content.find('\n');
    std::string_view line = content.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    content.remove_prefix(end + 1);
  }
  return lines;
}

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

bool has_tab_or_line_break(std::string_view text) { return text.find_first_of("\t\n\r") != std::string_view::npos; }

}  // namespace torchzoo::data
