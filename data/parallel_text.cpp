#include "torchzoo/data/parallel_text.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "torchzoo/layers/detail/check.h"

// Helpers live in a named namespace: the unity build compiles several .cpp
// files as one, where anonymous namespaces would share names.
namespace torchzoo::data::text_io {
namespace {

std::string read_whole_file(const std::string& path) {
  TORCHZOO_CHECK(std::filesystem::is_regular_file(path), "parallel text: file '{}' does not exist", path);
  std::ifstream in(path, std::ios::binary);
  TORCHZOO_CHECK(in.good(), "parallel text: cannot open '{}'", path);
  std::ostringstream content;
  content << in.rdbuf();
  TORCHZOO_CHECK(!in.bad(), "parallel text: read error in '{}'", path);
  return content.str();
}

/// The lines of `content`: split at '\n', a '\r' before it removed, a leading
/// UTF-8 byte-order mark skipped. A final line without '\n' counts; the empty
/// "line" after a final '\n' does not.
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

bool has_line_break_or_tab(const std::string& text) { return text.find_first_of("\t\n\r") != std::string::npos; }

}  // namespace
}  // namespace torchzoo::data::text_io

namespace torchzoo::data {

std::vector<ParallelPair> read_parallel_tsv(const std::string& path) {
  const std::string content = text_io::read_whole_file(path);
  const auto lines = text_io::split_lines(content);
  std::vector<ParallelPair> pairs;
  pairs.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    TORCHZOO_CHECK(!line.empty(), "{}:{}: expected 2 tab-separated fields (src<TAB>tgt), got an empty line", path,
                   i + 1);
    const size_t tab = line.find('\t');
    const size_t fields = 1 + static_cast<size_t>(std::count(line.begin(), line.end(), '\t'));
    TORCHZOO_CHECK(fields == 2, "{}:{}: expected 2 tab-separated fields (src<TAB>tgt), got {}", path, i + 1, fields);
    pairs.push_back({std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))});
  }
  return pairs;
}

std::vector<ParallelPair> read_parallel_files(const std::string& src_path, const std::string& tgt_path) {
  const std::string src_content = text_io::read_whole_file(src_path);
  const std::string tgt_content = text_io::read_whole_file(tgt_path);
  const auto src_lines = text_io::split_lines(src_content);
  const auto tgt_lines = text_io::split_lines(tgt_content);
  TORCHZOO_CHECK(src_lines.size() == tgt_lines.size(),
                 "parallel files must have the same number of lines: '{}' has {}, '{}' has {}", src_path,
                 src_lines.size(), tgt_path, tgt_lines.size());
  std::vector<ParallelPair> pairs;
  pairs.reserve(src_lines.size());
  for (size_t i = 0; i < src_lines.size(); ++i) {
    pairs.push_back({std::string(src_lines[i]), std::string(tgt_lines[i])});
  }
  return pairs;
}

void write_parallel_tsv(const std::string& path, const std::vector<ParallelPair>& pairs) {
  for (size_t i = 0; i < pairs.size(); ++i) {
    TORCHZOO_CHECK(!text_io::has_line_break_or_tab(pairs[i].src) && !text_io::has_line_break_or_tab(pairs[i].tgt),
                   "write_parallel_tsv('{}'): pair {} holds a tab or line break, which TSV cannot carry: src '{}', "
                   "tgt '{}'",
                   path, i, pairs[i].src, pairs[i].tgt);
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    TORCHZOO_CHECK(out.good(), "write_parallel_tsv: cannot create '{}'", tmp);
    for (const auto& pair : pairs) out << pair.src << '\t' << pair.tgt << '\n';
    out.close();
    if (!out) {
      std::filesystem::remove(tmp);
      TORCHZOO_CHECK(false, "write_parallel_tsv: write error in '{}'", tmp);
    }
  }
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  if (error) {
    std::filesystem::remove(tmp);
    TORCHZOO_CHECK(false, "write_parallel_tsv: cannot rename '{}' to '{}': {}", tmp, path, error.message());
  }
}

uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

int64_t source_bucket(std::string_view src) { return static_cast<int64_t>(fnv1a64(src) % 1000); }

CorpusSplits split_by_source_hash(const std::vector<ParallelPair>& pairs, double valid_fraction, double test_fraction) {
  TORCHZOO_CHECK(valid_fraction >= 0 && valid_fraction <= 1,
                 "split_by_source_hash: valid_fraction must be in [0, 1], got {}", valid_fraction);
  TORCHZOO_CHECK(test_fraction >= 0 && test_fraction <= 1,
                 "split_by_source_hash: test_fraction must be in [0, 1], got {}", test_fraction);
  const auto valid_buckets = static_cast<int64_t>(std::llround(valid_fraction * 1000));
  const auto test_buckets = static_cast<int64_t>(std::llround(test_fraction * 1000));
  TORCHZOO_CHECK(valid_buckets + test_buckets <= 1000,
                 "split_by_source_hash: valid_fraction + test_fraction must be at most 1, got {} + {}", valid_fraction,
                 test_fraction);
  CorpusSplits splits;
  for (const auto& pair : pairs) {
    const int64_t bucket = source_bucket(pair.src);
    if (bucket < valid_buckets) {
      splits.valid.push_back(pair);
    } else if (bucket < valid_buckets + test_buckets) {
      splits.test.push_back(pair);
    } else {
      splits.train.push_back(pair);
    }
  }
  return splits;
}

}  // namespace torchzoo::data
