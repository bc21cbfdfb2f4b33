#pragma once
// Corpus BLEU (Papineni et al., 2002) exactly as sacreBLEU computes it with
// its defaults (Post, 2018, "A Call for Clarity in Reporting BLEU Scores",
// https://aclanthology.org/W18-6319; semantics of sacreBLEU 2.6.0):
//
//  * each line is lowercased if asked (Python's str.lower(), full Unicode),
//    stripped of trailing Unicode whitespace (str.rstrip()) and tokenised with
//    "13a", the tokeniser of WMT's mteval-v13a.pl, or "none";
//  * tokens are the whitespace-separated pieces of the tokenised line, where
//    whitespace is Python's str.split() set (ASCII controls \t\n\v\f\r and
//    \x1c-\x1f, space, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
//    U+202F, U+205F, U+3000);
//  * n-gram counts (n = 1..max_ngram_order) are clipped by the maximum count
//    over the references; the reference length of a line is the closest one
//    to the hypothesis length (ties: the shorter);
//  * statistics are summed over the corpus, then turned into a score with the
//    chosen smoothing. "exp" (the default) is method 3 of Chen & Cherry (2014),
//    "A Systematic Comparison of Smoothing Techniques for Sentence-Level BLEU",
//    the NIST smoothing of mteval-v13a: the k-th order with no match gets
//    precision 1 / (2^k * total). "floor" is their method 1, "add-k" method 2.
//
// The arithmetic is sacreBLEU's, operation for operation, so scores agree to
// the last bit (tests/train/test_bleu.cpp checks this against the sacrebleu
// package on generated sets, tests/reference/bleu_golden.py).
//
// Strings are UTF-8. Unlike Python, std::string may hold invalid UTF-8: such
// bytes are kept and treated as neither whitespace nor cased letters.
//
// Example:
//   std::ifstream hyp_file("hyp.txt"), ref_file("ref.txt");
//   auto hyps = torchzoo::train::read_lines(hyp_file);
//   auto refs = torchzoo::train::read_lines(ref_file);
//   auto bleu = torchzoo::train::corpus_bleu(hyps, {refs});
//   std::cout << bleu.text() << "\n";  // as `sacrebleu ref.txt -i hyp.txt -f text`
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace torchzoo::train {

/// The sacreBLEU release whose semantics this file reproduces.
inline constexpr const char* kSacrebleuVersion = "2.6.0";

/// The version field of BLEU signatures: "2.6.0+torchzoo". A signature says
/// which software produced a number; this is not sacreBLEU, so the field may
/// not read "2.6.0". SemVer build metadata ("+torchzoo") keeps the release
/// whose numbers it reproduces in front, and avoids ':' and '|', so sacreBLEU's
/// own parser of signatures (key:value pairs split on '|') still reads it.
inline constexpr const char* kBleuSignatureVersion = "2.6.0+torchzoo";

/// sacreBLEU's "13a" tokeniser (mteval-v13a): drops "<skipped>", joins
/// "-\n" line breaks, unescapes &quot; &amp; &lt; &gt;, splits off
/// punctuation and symbols, periods and commas unless inside a number, and
/// dashes after a digit; returns the tokens joined by single spaces.
/// Example: tokenize_13a("It costs $1,000.50-ish, \"ok\"?") ==
///          "It costs $ 1,000.50 - ish , \" ok \" ?"
std::string tokenize_13a(const std::string& line);

/// Python's str.isspace() of one code point: the whitespace str.split() splits on (listed above).
bool python_isspace(char32_t cp);

/// sacreBLEU's JSON of a score, as its CLI prints it (Score.format(is_json=True)): name, the
/// score rounded to `width` decimals, the signature, `verbose_score` when not empty, then each
/// key:value of the signature.
std::string sacrebleu_json(std::string_view name, double score, int width, std::string_view signature,
                           std::string_view verbose_score = "");

/// Python's str.lower() on a UTF-8 string (Unicode 14.0 as in Python 3.11),
/// including 'İ' -> "i̇" and the final-sigma rule ("ΟΔΟΣ" -> "οδος").
std::string unicode_lower(const std::string& line);

/// Options of BLEU; the defaults are sacreBLEU's (and its CLI's).
/// Example (as `sacrebleu ref.txt -i hyp.txt -lc -s floor`):
///   BleuOptions options;
///   options.lowercase = true;
///   options.smooth_method = "floor";
///   auto bleu = corpus_bleu(hyps, {refs}, options);  // signature "...|case:lc|...|smooth:floor[0.10]|..."
struct BleuOptions {
  /// Lowercase hypotheses and references before tokenising ("case:lc").
  bool lowercase = false;
  /// "13a" (default, mteval-v13a) or "none" (split on whitespace only).
  std::string tokenize = "13a";
  /// "exp" (default), "none", "floor" or "add-k".
  std::string smooth_method = "exp";
  /// The value of "floor" (default 0.1) and "add-k" (default 1); unused otherwise.
  std::optional<double> smooth_value;
  /// Highest n-gram order.
  int max_ngram_order = 4;
  /// Average only over the orders with at least one hypothesis n-gram
  /// (recommended, and forced by the sacrebleu CLI, for sentence-level BLEU).
  bool effective_order = false;
};

/// Sufficient statistics of BLEU, summed over lines; they add up across
/// shards of a corpus.
struct BleuStatistics {
  int64_t sys_len = 0;          ///< hypothesis tokens
  int64_t ref_len = 0;          ///< closest reference lengths
  std::vector<int64_t> counts;  ///< clipped n-gram matches, n = 1..max_ngram_order
  std::vector<int64_t> totals;  ///< hypothesis n-grams, n = 1..max_ngram_order
  int64_t num_refs = 0;         ///< references per line (for the signature)
};

/// A BLEU score with sacreBLEU's fields and output formats.
/// Example: corpus_bleu(hyps, {refs}).json() is what `sacrebleu ref.txt -i hyp.txt`
/// prints, but for the version field (kBleuSignatureVersion).
struct BleuScore {
  double score = 0.0;              ///< 0..100
  std::vector<double> precisions;  ///< smoothed n-gram precisions in percent
  double bp = 0.0;                 ///< brevity penalty
  double ratio = 0.0;              ///< sys_len / ref_len (0 if ref_len == 0)
  int64_t sys_len = 0, ref_len = 0;
  /// Raw clipped matches and totals per order. (sacreBLEU's BLEUScore.counts
  /// and .totals include the k added by "add-k" for orders >= 2; these do not.)
  std::vector<int64_t> counts, totals;
  /// "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0+torchzoo":
  /// sacreBLEU's signature format, see kBleuSignatureVersion.
  std::string signature;

  /// sacreBLEU's text line with `width` decimals for the score (the CLI's
  /// default is 1): "BLEU|<signature> = 35.1 65.1/41.2/28.0/19.5 (BP = 1.000
  /// ratio = 1.012 hyp_len = 2000 ref_len = 1976)".
  std::string text(int width = 1) const;
  /// The JSON object the sacrebleu CLI prints by default (indent 1, keys
  /// name, score, signature, verbose_score, nrefs, case, eff, tok, smooth, version).
  std::string json(int width = 1) const;
  /// The part of text() after the score: "65.1/41.2/28.0/19.5 (BP = ... ref_len = 1976)".
  std::string verbose_score() const;
};

/// Statistics of a corpus. `refs` holds one stream per reference, each with
/// one line per hypothesis (an empty line is an empty reference); throws if
/// there are no hypotheses, no reference streams, or a stream of another length.
BleuStatistics corpus_statistics(const std::vector<std::string>& hyps,
                                 const std::vector<std::vector<std::string>>& refs, const BleuOptions& options = {});

/// The score of summed statistics (sacreBLEU's BLEU.compute_bleu).
BleuScore bleu_from_statistics(const BleuStatistics& stats, const BleuOptions& options = {});

/// Corpus BLEU as `sacrebleu REF... -i HYP` computes it.
/// Example: corpus_bleu({"the cat sat on the mat"}, {{"the cat sat on the mat"}}).text() ==
///   "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0+torchzoo = 100.0 "
///   "100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)"
/// (.score is 100.00000000000004 there, as in sacreBLEU). Without effective
/// order, a corpus with no 4-grams at all (every line under 4 tokens) scores 0.
BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      const BleuOptions& options = {});

/// BLEU of one line against its references (sacreBLEU's sentence_score).
/// Pass options with effective_order = true for sacreBLEU's recommended
/// sentence-level BLEU (what `sacrebleu --sentence-level` uses).
BleuScore sentence_bleu(const std::string& hyp, const std::vector<std::string>& refs, const BleuOptions& options = {});

/// The sacreBLEU signature of `options` with `num_refs` references.
std::string bleu_signature(const BleuOptions& options, int64_t num_refs);

/// Reads lines as sacrebleu reads its reference files and `-i` hypothesis
/// files: split on '\n' only (a lone '\r' stays inside the line), the last
/// line counts even without a final '\n', a final '\n' adds no empty line,
/// trailing Unicode whitespace (\r included) is stripped, and a UTF-8 byte
/// order mark is kept. Throws naming `name` (a file, or "stdin") and the line
/// on invalid UTF-8, as Python's decoder does. (Hypotheses piped to `sacrebleu REF < HYP` are read
/// differently: there a lone '\r' also ends a line and '\t' separates systems.)
std::vector<std::string> read_lines(std::istream& in, const std::string& name = "input");

}  // namespace torchzoo::train
