#pragma once
// Parallel text: pairs of a source sentence and its translation, read from and
// written to plain UTF-8 files, and split into train/valid/test by a hash of
// the source text.
//
// Formats:
//   TSV        one pair per line, "src<TAB>tgt"; '\n' or "\r\n" line ends; a
//              UTF-8 byte-order mark at the start is skipped. Both fields may
//              be empty ("\t" is the pair ("", "")), but every line must have
//              exactly one tab: an empty line is an error, because it is not a
//              pair and write_parallel_tsv never writes one.
//   two files  line i of the source file is the translation of line i of the
//              target file (the layout of WMT/Moses corpora). Empty lines are
//              kept as empty texts: dropping them would shift the alignment.
// The readers return the texts as they are (no trimming, no Unicode
// normalisation): filtering is the caller's business.
//
// Splitting: a pair goes to a split chosen by the FNV-1a 64-bit hash of its
// source text's UTF-8 bytes, modulo 1000 (the "bucket"). Buckets
// [0, valid) are valid, [valid, valid + test) test, the rest train. Because the
// split depends on the source text alone, the same source always lands in the
// same split, duplicates never straddle splits, and adding or removing other
// pairs never moves a pair between splits.
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "torchzoo/data/text_file.h"

namespace torchzoo::data {

/// One sentence and its translation.
struct ParallelPair {
  std::string src, tgt;
};

inline bool operator==(const ParallelPair& a, const ParallelPair& b) { return a.src == b.src && a.tgt == b.tgt; }
/// "src\ttgt", for test failure messages.
inline std::ostream& operator<<(std::ostream& out, const ParallelPair& pair) {
  return out << pair.src << '\t' << pair.tgt;
}

/// Pairs of the three splits, each in the order of the input.
struct CorpusSplits {
  std::vector<ParallelPair> train, valid, test;
};

/// Reads "src<TAB>tgt" lines. Errors name the file and the 1-based line and say
/// (a line that is not valid UTF-8 included, unless `invalid_utf8` skips it and `skipped` counts it)
/// what was expected, e.g. "corpus.tsv:17: expected 2 tab-separated fields, got 3".
///
/// Example:
///   auto pairs = read_parallel_tsv(common::data_path("libreoffice-help/en-US-de/train.tsv"));
std::vector<ParallelPair> read_parallel_tsv(const std::string& path, InvalidUtf8 invalid_utf8 = InvalidUtf8::kError,
                                            int64_t* skipped = nullptr);

/// Reads two aligned files with one sentence per line; their line counts must
/// agree (the error names both files and both counts).
///
/// Example:
///   auto pairs = read_parallel_files("train.en", "train.de");
std::vector<ParallelPair> read_parallel_files(const std::string& src_path, const std::string& tgt_path,
                                              InvalidUtf8 invalid_utf8 = InvalidUtf8::kError,
                                              int64_t* skipped = nullptr);

/// Writes `pairs` as TSV ("src<TAB>tgt\n" each). A text holding a tab, '\n' or
/// '\r' is an error naming the pair (0-based index): it could not be read back
/// as the same pair, and replacing those characters silently would change the
/// data. The file appears whole or not at all: it is written to `path`.tmp,
/// then renamed.
void write_parallel_tsv(const std::string& path, const std::vector<ParallelPair>& pairs);

/// FNV-1a, 64 bits, of the bytes of `text` (offset basis 14695981039346656037,
/// prime 1099511628211): stable across platforms, compilers and runs, unlike std::hash.
uint64_t fnv1a64(std::string_view text);

/// The split bucket of a source text: fnv1a64(src) % 1000, in [0, 1000).
int64_t source_bucket(std::string_view src);

/// Splits `pairs` by source_bucket. The fractions are rounded to whole buckets
/// (multiples of 0.001); each must be in [0, 1] and their sum at most 1.
/// The order within each split is the order of `pairs`.
///
/// Example:
///   CorpusSplits s = split_by_source_hash(pairs, /*valid_fraction=*/0.02, /*test_fraction=*/0.02);
CorpusSplits split_by_source_hash(const std::vector<ParallelPair>& pairs, double valid_fraction, double test_fraction);

}  // namespace torchzoo::data
