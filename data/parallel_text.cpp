#include "torchzoo/data/parallel_text.h"

#include <algorithm>
#include <cmath>

#include "torchzoo/data/text_file.h"
#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"

namespace torchzoo::data {

std::vector<ParallelPair> read_parallel_tsv(const std::string& path, InvalidUtf8 invalid_utf8, int64_t* skipped) {
  const std::string content = read_text_file(path, "parallel text");
  const auto lines = split_lines(content);
  Utf8LineCheck utf8(path, invalid_utf8);
  std::vector<ParallelPair> pairs;
  pairs.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (!utf8.accept(line, i + 1)) continue;
    TORCHZOO_CHECK(!line.empty(), "{}:{}: expected 2 tab-separated fields (src<TAB>tgt), got an empty line", path,
                   i + 1);
    const size_t tab = line.find('\t');
    const size_t fields = 1 + static_cast<size_t>(std::count(line.begin(), line.end(), '\t'));
    TORCHZOO_CHECK(fields == 2, "{}:{}: expected 2 tab-separated fields (src<TAB>tgt), got {}", path, i + 1, fields);
    pairs.push_back({std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))});
  }
  if (skipped != nullptr) *skipped = utf8.skipped();
  return pairs;
}

std::vector<ParallelPair> read_parallel_files(const std::string& src_path, const std::string& tgt_path,
                                              InvalidUtf8 invalid_utf8, int64_t* skipped) {
  const std::string src_content = read_text_file(src_path, "parallel text");
  const std::string tgt_content = read_text_file(tgt_path, "parallel text");
  const auto src_lines = split_lines(src_content);
  const auto tgt_lines = split_lines(tgt_content);
  TORCHZOO_CHECK(src_lines.size() == tgt_lines.size(),
                 "parallel files must have the same number of lines: '{}' has {}, '{}' has {}", src_path,
                 src_lines.size(), tgt_path, tgt_lines.size());
  Utf8LineCheck src_utf8(src_path, invalid_utf8), tgt_utf8(tgt_path, invalid_utf8);
  std::vector<ParallelPair> pairs;
  pairs.reserve(src_lines.size());
  int64_t dropped = 0;
  for (size_t i = 0; i < src_lines.size(); ++i) {
    const bool src_ok = src_utf8.accept(src_lines[i], i + 1);
    const bool tgt_ok = tgt_utf8.accept(tgt_lines[i], i + 1);
    if (!src_ok || !tgt_ok) {
      ++dropped;  // the pair goes, whichever side was bad
      continue;
    }
    pairs.push_back({std::string(src_lines[i]), std::string(tgt_lines[i])});
  }
  if (skipped != nullptr) *skipped = dropped;
  return pairs;
}

void write_parallel_tsv(const std::string& path, const std::vector<ParallelPair>& pairs) {
  std::string content;
  for (size_t i = 0; i < pairs.size(); ++i) {
    TORCHZOO_CHECK(!has_tab_or_line_break(pairs[i].src) && !has_tab_or_line_break(pairs[i].tgt),
                   "write_parallel_tsv('{}'): pair {} holds a tab or line break, which TSV cannot carry: src '{}', "
                   "tgt '{}'",
                   path, i, pairs[i].src, pairs[i].tgt);
    content += pairs[i].src;
    content += '\t';
    content += pairs[i].tgt;
    content += '\n';
  }
  common::write_file_atomically(path, content, "write_parallel_tsv");
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
