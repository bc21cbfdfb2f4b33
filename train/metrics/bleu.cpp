// BLEU as sacreBLEU 2.6.0 computes it; bleu.h says what is reproduced and
// cites the sources. Comments name the sacreBLEU function each step mirrors.
#include "torchzoo/train/metrics/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <utility>

#include "torchzoo/common/check.h"
#include "torchzoo/common/format.h"
#include "torchzoo/common/json.h"
#include "torchzoo/common/utf8.h"

namespace torchzoo::train {
// A named namespace, not an anonymous one: the unity build compiles this file
// together with others whose file-local helpers may have the same names.
namespace bleu_detail {

// UTF-8 (common/utf8.h)

using common::CodePoint;
using common::append_utf8;
using common::decode_utf8;
using common::find_invalid_utf8;

// ---------------------------------------------------------------------------
// Python's whitespace (str.isspace, used by str.split and str.rstrip)

inline bool is_python_space(char32_t cp) {
  if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);  // \t\n\v\f\r, separators, space
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||  // next line, no-break space, ogham space mark
         (cp >= 0x2000 && cp <= 0x200A) ||            // en quad .. hair space (U+2009 is the thin space)
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/// Bytes of the whitespace character starting at byte `i`, 0 if there is none.
inline size_t whitespace_length(std::string_view s, size_t i) {
  const unsigned char lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return is_python_space(lead) ? 1 : 0;
  if (lead != 0xC2 && lead != 0xE1 && lead != 0xE2 && lead != 0xE3) return 0;  // no other lead starts a space
  const CodePoint cp = decode_utf8(s, i);
  return cp.length > 0 && is_python_space(cp.value) ? cp.length : 0;
}

/// str.rstrip(): `s` without its trailing whitespace.
std::string_view rstrip(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t length = 0;  // a whitespace character takes 1 to 3 bytes
    for (size_t n = 1; n <= 3 && n <= end && length == 0; ++n) {
      if (whitespace_length(s, end - n) == n) length = n;
    }
    if (length == 0) break;
    end -= length;
  }
  return s.substr(0, end);
}

/// str.split() without arguments: the maximal runs of non-whitespace.
std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> tokens;
  size_t start = std::string_view::npos;
  for (size_t i = 0; i < s.size();) {
    if (const size_t space = whitespace_length(s, i); space > 0) {
      if (start != std::string_view::npos) tokens.push_back(s.substr(start, i - start));
      start = std::string_view::npos;
      i += space;
    } else {
      if (start == std::string_view::npos) start = i;
      ++i;
    }
  }
  if (start != std::string_view::npos) tokens.push_back(s.substr(start));
  return tokens;
}

// ---------------------------------------------------------------------------
// Python's str.lower()

/// How a character next to a capital sigma steers the final-sigma rule.
enum class SigmaContext { kOther, kCased, kIgnorable };

char32_t simple_lower(char32_t cp);       // one-to-one mappings, from the tables at the end
SigmaContext sigma_context(char32_t cp);  // Unicode's Cased / Case_Ignorable, from the tables at the end

constexpr char32_t kCapitalSigma = 0x3A3, kSmallSigma = 0x3C3, kFinalSigma = 0x3C2;

/// Unicode's Final_Sigma condition for the capital sigma at `i`, as CPython's
/// handle_capital_sigma: a cased letter before it and none after it, skipping
/// case-ignorable characters on both sides.
bool is_final_sigma(const std::vector<CodePoint>& text, size_t i) {
  const auto context = [&](size_t k) {
    return text[k].length == 0 ? SigmaContext::kOther : sigma_context(text[k].value);
  };
  size_t before = i;
  while (before > 0 && context(before - 1) == SigmaContext::kIgnorable) --before;
  if (before == 0 || context(before - 1) != SigmaContext::kCased) return false;
  size_t after = i + 1;
  while (after < text.size() && context(after) == SigmaContext::kIgnorable) ++after;
  return after == text.size() || context(after) != SigmaContext::kCased;
}

// ---------------------------------------------------------------------------
// The 13a tokeniser

/// s = s.replace(from, to): one left-to-right pass; replaced text is not
/// searched again.
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t hit = s.find(from);
  if (hit == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  size_t start = 0;
  for (; hit != std::string::npos; hit = s.find(from, start)) {
    out.append(s, start, hit - start).append(to);
    start = hit + from.size();
  }
  s = out.append(s, start);
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// mteval-v13a's class [\{-\~\[-\` -\&\(-\+\:-\@\/]: the ASCII punctuation and
/// symbols except ' - . , (and the space, harmlessly).
inline bool is_13a_symbol(char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') || (c >= '(' && c <= '+') ||
         (c >= ':' && c <= '@') || c == '/';
}

/// re.sub(r"([first])([second])", replacement, s): matches are found left to
/// right and do not overlap; `emit(out, a, b)` appends the replacement.
///
/// Working on bytes gives Python's result on code points: every class here is
/// ASCII or "not a digit", and no byte of a multi-byte character is ASCII, so
/// such a character can only match "not a digit", which its last byte (before
/// the pair) or first byte (after the pair's ASCII half) matches in its place.
template <typename First, typename Second, typename Emit>
std::string substitute_pairs(std::string_view s, First first, Second second, Emit emit) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

/// ' '.join(s.split())
std::string join_tokens(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::string_view token : split_whitespace(s)) {
    if (!out.empty()) out += ' ';
    out.append(token);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Options and statistics

const std::vector<std::string>& supported_tokenizers() {
  static const std::vector<std::string> names = {"13a", "none"};
  return names;
}

const std::vector<std::string>& supported_smooth_methods() {
  static const std::vector<std::string> names = {"exp", "none", "floor", "add-k"};
  return names;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void check_options(const BleuOptions& options) {
  TORCHZOO_CHECK(contains(supported_tokenizers(), options.tokenize), "BLEU: unknown tokenize '{}' (supported: {})",
                 options.tokenize, fmt::join(supported_tokenizers(), ", "));
  TORCHZOO_CHECK(contains(supported_smooth_methods(), options.smooth_method),
                 "BLEU: unknown smooth_method '{}' (supported: {})", options.smooth_method,
                 fmt::join(supported_smooth_methods(), ", "));
  TORCHZOO_CHECK(options.max_ngram_order >= 1, "BLEU: max_ngram_order must be at least 1, got {}",
                 options.max_ngram_order);
}

/// The value "floor" and "add-k" use: the given one or BLEU.SMOOTH_DEFAULTS.
std::optional<double> smooth_value(const BleuOptions& options) {
  if (options.smooth_method == "floor") return options.smooth_value.value_or(0.1);
  if (options.smooth_method == "add-k") return options.smooth_value.value_or(1.0);
  return std::nullopt;
}

/// A line after BLEU._preprocess_segment, its tokens joined by single spaces
/// so that the n-gram of tokens i..j is the substring from token i to token j.
struct TokenizedLine {
  std::string text;
  std::vector<std::pair<size_t, size_t>> tokens;  // [begin, end) byte offsets into text
  std::vector<uint64_t> token_hashes;             // FNV-1a of each token

  std::string_view ngram(size_t first, size_t n) const {
    const size_t begin = tokens[first].first, end = tokens[first + n - 1].second;
    return std::string_view(text).substr(begin, end - begin);
  }
  uint64_t ngram_hash(size_t first, size_t n) const {
    uint64_t hash = n;
    for (size_t i = first; i < first + n; ++i) hash = (hash ^ token_hashes[i]) * 0x100000001B3ull;
    return hash;
  }
};

uint64_t fnv1a(std::string_view s) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (char c : s) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  return hash;
}

/// BLEU._preprocess_segment, then extract_all_word_ngrams's line.split().
TokenizedLine preprocess(const std::string& line, const BleuOptions& options) {
  std::string text = options.lowercase ? unicode_lower(line) : line;
  text.resize(rstrip(text).size());
  TokenizedLine out;
  // 13a's output is already tokens joined by single spaces.
  out.text = options.tokenize == "13a" ? tokenize_13a(text) : join_tokens(text);
  for (size_t i = 0; i < out.text.size();) {
    const size_t end = std::min(out.text.find(' ', i), out.text.size());
    out.tokens.emplace_back(i, end);
    out.token_hashes.push_back(fnv1a(std::string_view(out.text).substr(i, end - i)));
    i = end + 1;
  }
  return out;
}

/// An n-gram of a line with its count. Hash first: the order n-grams are
/// sorted in only has to be the same for hypothesis and references, and
/// comparing hashes is cheaper than comparing text.
struct NgramCount {
  uint64_t hash;
  std::string_view ngram;
  int64_t count;
};

inline bool ngram_less(const NgramCount& a, const NgramCount& b) {
  return a.hash != b.hash ? a.hash < b.hash : a.ngram < b.ngram;
}
inline bool same_ngram(const NgramCount& a, const NgramCount& b) { return a.hash == b.hash && a.ngram == b.ngram; }

/// The distinct n-grams of one order in a line with their counts, sorted by
/// ngram_less. (Sorted vectors rather than hash maps: lines are short, and
/// scoring a corpus this way allocates almost nothing.)
using NgramCounts = std::vector<NgramCount>;

/// The n-grams of order `n` of `line` with their counts, into `counts`.
void count_ngrams(const TokenizedLine& line, size_t n, NgramCounts& counts) {
  counts.clear();
  for (size_t i = 0; i + n <= line.tokens.size(); ++i) counts.push_back({line.ngram_hash(i, n), line.ngram(i, n), 1});
  std::sort(counts.begin(), counts.end(), [](const NgramCount& a, const NgramCount& b) { return ngram_less(a, b); });
  size_t distinct = 0;
  for (const NgramCount& entry : counts) {
    if (distinct > 0 && same_ngram(counts[distinct - 1], entry)) {
      counts[distinct - 1].count += entry.count;
    } else {
      counts[distinct++] = entry;
    }
  }
  counts.resize(distinct);
}

/// `a` and `b` merged into `out`, an n-gram in both with the larger count:
/// how the references of a line combine (BLEU._extract_reference_info).
void merge_max(const NgramCounts& a, const NgramCounts& b, NgramCounts& out) {
  out.clear();
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && ngram_less(a[i], b[j]))) {
      out.push_back(a[i++]);
    } else if (i == a.size() || ngram_less(b[j], a[i])) {
      out.push_back(b[j++]);
    } else {
      out.push_back({a[i].hash, a[i].ngram, std::max(a[i].count, b[j].count)});
      ++i, ++j;
    }
  }
}

/// Sum over the hypothesis n-grams of min(count, count in the references).
int64_t clipped_matches(const NgramCounts& hyp, const NgramCounts& ref) {
  int64_t matches = 0;
  size_t j = 0;
  for (const NgramCount& entry : hyp) {
    while (j < ref.size() && ngram_less(ref[j], entry)) ++j;
    if (j < ref.size() && same_ngram(ref[j], entry)) matches += std::min(entry.count, ref[j].count);
  }
  return matches;
}

/// BLEU._get_closest_ref_len: the reference length closest to the hypothesis
/// length; on a tie the shorter one.
int64_t closest_ref_len(int64_t hyp_len, const std::vector<int64_t>& ref_lens) {
  int64_t best = ref_lens.front();
  for (int64_t len : ref_lens) {
    const int64_t diff = std::abs(hyp_len - len), best_diff = std::abs(hyp_len - best);
    if (diff < best_diff || (diff == best_diff && len < best)) best = len;
  }
  return best;
}

/// BLEU._extract_reference_info and _compute_segment_statistics, line by
/// line: adds a line's lengths, clipped matches and totals to `stats`. Keeps
/// its buffers from line to line.
class SegmentScorer {
 public:
  void add(const std::string& hyp, const std::vector<const std::string*>& refs, const BleuOptions& options,
           BleuStatistics& stats) {
    refs_.clear();
    ref_lens_.clear();
    for (const std::string* ref : refs) {
      refs_.push_back(preprocess(*ref, options));
      ref_lens_.push_back(static_cast<int64_t>(refs_.back().tokens.size()));
    }
    const TokenizedLine hyp_line = preprocess(hyp, options);
    const auto hyp_len = static_cast<int64_t>(hyp_line.tokens.size());
    stats.sys_len += hyp_len;
    stats.ref_len += closest_ref_len(hyp_len, ref_lens_);
    for (size_t n = 1; n <= stats.counts.size(); ++n) {
      count_ngrams(refs_.front(), n, ref_counts_);
      for (size_t r = 1; r < refs_.size(); ++r) {
        count_ngrams(refs_[r], n, other_ref_);
        merge_max(ref_counts_, other_ref_, merged_);
        std::swap(ref_counts_, merged_);
      }
      count_ngrams(hyp_line, n, hyp_counts_);
      stats.totals[n - 1] += std::max<int64_t>(hyp_len - static_cast<int64_t>(n) + 1, 0);
      stats.counts[n - 1] += clipped_matches(hyp_counts_, ref_counts_);
    }
  }

 private:
  std::vector<TokenizedLine> refs_;  // the text the n-grams view (taken only once refs_ is filled)
  std::vector<int64_t> ref_lens_;
  NgramCounts ref_counts_, other_ref_, merged_, hyp_counts_;
};

// ---------------------------------------------------------------------------
// Scores

/// sacreBLEU's my_log: log(0) floored to -9999999999.
double floored_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

/// Python's float(f"{x:.{width}f}") printed by json.dumps: the rounded number
/// in its shortest form, at least one decimal ("35.1", "100.0").
std::string json_number(double x, int width) {
  std::string s = fmt::format("{:.{}f}", x, width);
  if (s.find('.') == std::string::npos) return s + ".0";
  while (s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

using common::json_string;

}  // namespace bleu_detail

// ---------------------------------------------------------------------------
// Public functions

std::string unicode_lower(const std::string& line) {
  if (std::all_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    std::string out = line;  // ASCII: A-Z only
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return out;
  }
  std::vector<bleu_detail::CodePoint> text;
  text.reserve(line.size());
  for (size_t i = 0; i < line.size();) {
    const bleu_detail::CodePoint cp = bleu_detail::decode_utf8(line, i);
    text.push_back(cp.length > 0 ? cp : bleu_detail::CodePoint{static_cast<unsigned char>(line[i]), 0});
    i += std::max<size_t>(cp.length, 1);
  }
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t cp = text[i].value;
    if (text[i].length == 0) {
      out += static_cast<char>(cp);  // an invalid byte, kept
    } else if (cp == 0x130) {        // 'İ', the one mapping to two code points:
      out += "i\xCC\x87";            // i + U+0307 COMBINING DOT ABOVE
    } else if (cp == bleu_detail::kCapitalSigma) {
      bleu_detail::append_utf8(
          out, bleu_detail::is_final_sigma(text, i) ? bleu_detail::kFinalSigma : bleu_detail::kSmallSigma);
    } else {
      bleu_detail::append_utf8(out, bleu_detail::simple_lower(cp));
    }
  }
  return out;
}

std::string tokenize_13a(const std::string& line) {
  // Tokenizer13a: mteval-v13a's language-independent part.
  std::string text = line;
  bleu_detail::replace_all(text, "<skipped>", "");
  bleu_detail::replace_all(text, "-\n", "");
  bleu_detail::replace_all(text, "\n", " ");
  if (text.find('&') != std::string::npos) {
    bleu_detail::replace_all(text, "&quot;", "\"");
    bleu_detail::replace_all(text, "&amp;", "&");
    bleu_detail::replace_all(text, "&lt;", "<");
    bleu_detail::replace_all(text, "&gt;", ">");
  }
  const std::string padded = " " + text + " ";

  // TokenizerRegexp: the language-dependent part (Western languages), rule by rule.
  const auto digit = [](char c) { return bleu_detail::is_digit(c); };
  const auto not_digit = [](char c) { return !bleu_detail::is_digit(c); };
  const auto period_or_comma = [](char c) { return c == '.' || c == ','; };
  const auto dash = [](char c) { return c == '-'; };
  // 1. Symbols become tokens: ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> " \1 ".
  text.clear();
  for (char c : padded) {
    if (bleu_detail::is_13a_symbol(c)) {
      text.append({' ', c, ' '});
    } else {
      text += c;
    }
  }
  // 2. Periods and commas not after a digit: ([^0-9])([\.,]) -> "\1 \2 ".
  text = bleu_detail::substitute_pairs(text, not_digit, period_or_comma, [](std::string& out, char a, char b) {
    out.append({a, ' ', b, ' '});
  });
  // 3. Periods and commas not before a digit: ([\.,])([^0-9]) -> " \1 \2".
  text = bleu_detail::substitute_pairs(text, period_or_comma, not_digit, [](std::string& out, char a, char b) {
    out.append({' ', a, ' ', b});
  });
  // 4. Dashes after a digit: ([0-9])(-) -> "\1 \2 ".
  text = bleu_detail::substitute_pairs(text, digit, dash, [](std::string& out, char a, char b) {
    out.append({a, ' ', b, ' '});
  });
  return bleu_detail::join_tokens(text);
}

std::string bleu_signature(const BleuOptions& options, int64_t num_refs) {
  bleu_detail::check_options(options);
  std::string smooth = options.smooth_method;
  if (const auto value = bleu_detail::smooth_value(options)) smooth += fmt::format("[{:.2f}]", *value);
  return fmt::format("nrefs:{}|case:{}|eff:{}|tok:{}|smooth:{}|version:{}", num_refs,
                     options.lowercase ? "lc" : "mixed", options.effective_order ? "yes" : "no", options.tokenize,
                     smooth, kBleuSignatureVersion);
}

BleuStatistics corpus_statistics(const std::vector<std::string>& hyps,
                                 const std::vector<std::vector<std::string>>& refs, const BleuOptions& options) {
  bleu_detail::check_options(options);
  TORCHZOO_CHECK(!hyps.empty(), "corpus_bleu: there are no hypotheses");
  TORCHZOO_CHECK(!refs.empty(), "corpus_bleu: there are no reference streams ({} hypotheses)", hyps.size());
  for (size_t r = 0; r < refs.size(); ++r) {
    TORCHZOO_CHECK(refs[r].size() == hyps.size(),
                   "corpus_bleu: reference stream {} has {} lines but there are {} hypothesis lines (the streams "
                   "must be parallel)",
                   r, refs[r].size(), hyps.size());
  }
  BleuStatistics stats;
  stats.counts.assign(options.max_ngram_order, 0);
  stats.totals.assign(options.max_ngram_order, 0);
  stats.num_refs = static_cast<int64_t>(refs.size());
  bleu_detail::SegmentScorer scorer;
  std::vector<const std::string*> line_refs(refs.size());
  for (size_t i = 0; i < hyps.size(); ++i) {
    for (size_t r = 0; r < refs.size(); ++r) line_refs[r] = &refs[r][i];
    scorer.add(hyps[i], line_refs, options, stats);
  }
  return stats;
}

BleuScore bleu_from_statistics(const BleuStatistics& stats, const BleuOptions& options) {
  bleu_detail::check_options(options);
  const auto order = static_cast<size_t>(options.max_ngram_order);
  TORCHZOO_CHECK(stats.counts.size() == order && stats.totals.size() == order,
                 "BLEU: statistics have {} counts and {} totals, expected max_ngram_order = {} of each",
                 stats.counts.size(), stats.totals.size(), order);
  BleuScore out;
  out.sys_len = stats.sys_len;
  out.ref_len = stats.ref_len;
  out.counts = stats.counts;
  out.totals = stats.totals;
  out.signature = bleu_signature(options, stats.num_refs);
  out.ratio = stats.ref_len > 0 ? static_cast<double>(stats.sys_len) / static_cast<double>(stats.ref_len) : 0.0;
  out.precisions.assign(order, 0.0);

  // BLEU.compute_bleu, step by step, in the same floating-point operations.
  out.bp = 1.0;
  if (stats.sys_len < stats.ref_len) {
    out.bp = stats.sys_len > 0 ? std::exp(1.0 - static_cast<double>(stats.ref_len) / static_cast<double>(stats.sys_len))
                               : 0.0;
  }
  if (std::all_of(stats.counts.begin(), stats.counts.end(), [](int64_t c) { return c == 0; })) {
    out.score = 0.0;  // no match at any order (sacreBLEU #141)
    return out;
  }
  const std::optional<double> k = bleu_detail::smooth_value(options);
  double smooth_mteval = 1.0;
  size_t eff_order = order;
  for (size_t n = 1; n <= order; ++n) {
    double correct = static_cast<double>(stats.counts[n - 1]);
    double total = static_cast<double>(stats.totals[n - 1]);
    if (options.smooth_method == "add-k" && n > 1) {
      correct += *k;
      total += *k;
    }
    if (total == 0.0) break;  // no n-grams of this order or higher
    if (options.effective_order) eff_order = n;
    double& precision = out.precisions[n - 1];
    if (correct == 0.0) {
      if (options.smooth_method == "exp") {
        smooth_mteval *= 2.0;
        precision = 100.0 / (smooth_mteval * total);
      } else if (options.smooth_method == "floor") {
        precision = 100.0 * *k / total;
      }
    } else {
      precision = 100.0 * correct / total;
    }
  }
  double log_sum = 0.0;
  for (size_t n = 0; n < eff_order; ++n) log_sum += bleu_detail::floored_log(out.precisions[n]);
  out.score = out.bp * std::exp(log_sum / static_cast<double>(eff_order));
  return out;
}

BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      const BleuOptions& options) {
  return bleu_from_statistics(corpus_statistics(hyps, refs, options), options);
}

BleuScore sentence_bleu(const std::string& hyp, const std::vector<std::string>& refs, const BleuOptions& options) {
  TORCHZOO_CHECK(!refs.empty(), "sentence_bleu: there are no references");
  std::vector<std::vector<std::string>> streams;
  for (const std::string& ref : refs) streams.push_back({ref});
  return corpus_bleu({hyp}, streams, options);
}

std::vector<std::string> read_lines(std::istream& in, const std::string& name) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line, '\n')) {
    const size_t bad = bleu_detail::find_invalid_utf8(line);
    TORCHZOO_CHECK(bad == std::string::npos, "{}:{}: not valid UTF-8 (byte {} of the line is 0x{:02x})", name,
                   lines.size() + 1, bad + 1, bad == std::string::npos ? 0 : static_cast<unsigned char>(line[bad]));
    lines.emplace_back(bleu_detail::rstrip(line));
  }
  return lines;
}

std::string BleuScore::verbose_score() const {
  std::vector<std::string> parts;
  for (double p : precisions) parts.push_back(fmt::format("{:.1f}", p));
  return fmt::format("{} (BP = {:.3f} ratio = {:.3f} hyp_len = {} ref_len = {})", fmt::join(parts, "/"), bp, ratio,
                     sys_len, ref_len);
}

std::string BleuScore::text(int width) const {
  TORCHZOO_CHECK(width >= 0, "BleuScore::text: width must be >= 0, got {}", width);
  return fmt::format("BLEU|{} = {:.{}f} {}", signature, score, width, verbose_score());
}

std::string BleuScore::json(int width) const {
  TORCHZOO_CHECK(width >= 0, "BleuScore::json: width must be >= 0, got {}", width);
  return sacrebleu_json("BLEU", score, width, signature, verbose_score());
}

std::string sacrebleu_json(std::string_view name, double score, int width, std::string_view signature,
                           std::string_view verbose_score) {
  // Score.format(is_json=True): json.dumps(indent=1) of name, score, signature, verbose_score
  // (BLEU's) and then each key:value of the signature.
  std::vector<std::pair<std::string_view, std::string>> fields = {
      {"name", bleu_detail::json_string(name)},
      {"score", bleu_detail::json_number(score, width)},
      {"signature", bleu_detail::json_string(signature)},
  };
  if (!verbose_score.empty()) fields.emplace_back("verbose_score", bleu_detail::json_string(verbose_score));
  for (std::string_view rest = signature; !rest.empty();) {
    const std::string_view pair = rest.substr(0, rest.find('|'));
    rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
    const size_t colon = pair.find(':');
    fields.emplace_back(pair.substr(0, colon), bleu_detail::json_string(pair.substr(colon + 1)));
  }
  std::string out = "{\n";
  for (size_t i = 0; i < fields.size(); ++i) {
    out += fmt::format(" {}: {}{}\n", bleu_detail::json_string(fields[i].first), fields[i].second,
                       i + 1 < fields.size() ? "," : "");
  }
  return out + "}";
}

bool python_isspace(char32_t cp) { return bleu_detail::is_python_space(cp); }

// ---------------------------------------------------------------------------
// Unicode tables of Python's str.lower()
//
// Derived from Python's own str.lower() by bleu_golden.py --emit-cpp-tables,
// and checked against the installed Python on every code point by
// tests/train/test_bleu.cpp: a Python with another Unicode version fails that
// test, and the tables are regenerated with the command above.

namespace bleu_detail {

/// Code points first..last (every `stride`-th one from first) map to cp + delta.
struct LowerRun {
  char32_t first, last;
  int32_t delta;
  int32_t stride;
};

/// Code points first..last are Cased ('C') or Case_Ignorable ('I'; both
/// properties count as ignorable, as CPython tests that one first).
struct SigmaRange {
  char32_t first, last;
  char kind;
};

// Generated by tests/reference/bleu_golden.py --emit-cpp-tables (Python 3.11.7, Unicode 14.0.0).
// clang-format off
constexpr LowerRun kLowerRuns[] = {
    {0x41, 0x5A, 32, 1}, {0xC0, 0xD6, 32, 1}, {0xD8, 0xDE, 32, 1}, {0x100, 0x12E, 1, 2}, {0x132, 0x136, 1, 2},
    {0x139, 0x147, 1, 2}, {0x14A, 0x176, 1, 2}, {0x178, 0x178, -121, 1}, {0x179, 0x17D, 1, 2}, {0x181, 0x181, 210, 1},
    {0x182, 0x184, 1, 2}, {0x186, 0x186, 206, 1}, {0x187, 0x187, 1, 1}, {0x189, 0x18A, 205, 1}, {0x18B, 0x18B, 1, 1},
    {0x18E, 0x18E, 79, 1}, {0x18F, 0x18F, 202, 1}, {0x190, 0x190, 203, 1}, {0x191, 0x191, 1, 1}, {0x193, 0x193, 205, 1},
    {0x194, 0x194, 207, 1}, {0x196, 0x196, 211, 1}, {0x197, 0x197, 209, 1}, {0x198, 0x198, 1, 1},
    {0x19C, 0x19C, 211, 1}, {0x19D, 0x19D, 213, 1}, {0x19F, 0x19F, 214, 1}, {0x1A0, 0x1A4, 1, 2},
    {0x1A6, 0x1A6, 218, 1}, {0x1A7, 0x1A7, 1, 1}, {0x1A9, 0x1A9, 218, 1}, {0x1AC, 0x1AC, 1, 1}, {0x1AE, 0x1AE, 218, 1},
    {0x1AF, 0x1AF, 1, 1}, {0x1B1, 0x1B2, 217, 1}, {0x1B3, 0x1B5, 1, 2}, {0x1B7, 0x1B7, 219, 1}, {0x1B8, 0x1B8, 1, 1},
    {0x1BC, 0x1BC, 1, 1}, {0x1C4, 0x1C4, 2, 1}, {0x1C5, 0x1C5, 1, 1}, {0x1C7, 0x1C7, 2, 1}, {0x1C8, 0x1C8, 1, 1},
    {0x1CA, 0x1CA, 2, 1}, {0x1CB, 0x1DB, 1, 2}, {0x1DE, 0x1EE, 1, 2}, {0x1F1, 0x1F1, 2, 1}, {0x1F2, 0x1F4, 1, 2},
    {0x1F6, 0x1F6, -97, 1}, {0x1F7, 0x1F7, -56, 1}, {0x1F8, 0x21E, 1, 2}, {0x220, 0x220, -130, 1}, {0x222, 0x232, 1, 2},
    {0x23A, 0x23A, 10795, 1}, {0x23B, 0x23B, 1, 1}, {0x23D, 0x23D, -163, 1}, {0x23E, 0x23E, 10792, 1},
    {0x241, 0x241, 1, 1}, {0x243, 0x243, -195, 1}, {0x244, 0x244, 69, 1}, {0x245, 0x245, 71, 1}, {0x246, 0x24E, 1, 2},
    {0x370, 0x372, 1, 2}, {0x376, 0x376, 1, 1}, {0x37F, 0x37F, 116, 1}, {0x386, 0x386, 38, 1}, {0x388, 0x38A, 37, 1},
    {0x38C, 0x38C, 64, 1}, {0x38E, 0x38F, 63, 1}, {0x391, 0x3A1, 32, 1}, {0x3A3, 0x3AB, 32, 1}, {0x3CF, 0x3CF, 8, 1},
    {0x3D8, 0x3EE, 1, 2}, {0x3F4, 0x3F4, -60, 1}, {0x3F7, 0x3F7, 1, 1}, {0x3F9, 0x3F9, -7, 1}, {0x3FA, 0x3FA, 1, 1},
    {0x3FD, 0x3FF, -130, 1}, {0x400, 0x40F, 80, 1}, {0x410, 0x42F, 32, 1}, {0x460, 0x480, 1, 2}, {0x48A, 0x4BE, 1, 2},
    {0x4C0, 0x4C0, 15, 1}, {0x4C1, 0x4CD, 1, 2}, {0x4D0, 0x52E, 1, 2}, {0x531, 0x556, 48, 1}, {0x10A0, 0x10C5, 7264, 1},
    {0x10C7, 0x10C7, 7264, 1}, {0x10CD, 0x10CD, 7264, 1}, {0x13A0, 0x13EF, 38864, 1}, {0x13F0, 0x13F5, 8, 1},
    {0x1C90, 0x1CBA, -3008, 1}, {0x1CBD, 0x1CBF, -3008, 1}, {0x1E00, 0x1E94, 1, 2}, {0x1E9E, 0x1E9E, -7615, 1},
    {0x1EA0, 0x1EFE, 1, 2}, {0x1F08, 0x1F0F, -8, 1}, {0x1F18, 0x1F1D, -8, 1}, {0x1F28, 0x1F2F, -8, 1},
    {0x1F38, 0x1F3F, -8, 1}, {0x1F48, 0x1F4D, -8, 1}, {0x1F59, 0x1F5F, -8, 2}, {0x1F68, 0x1F6F, -8, 1},
    {0x1F88, 0x1F8F, -8, 1}, {0x1F98, 0x1F9F, -8, 1}, {0x1FA8, 0x1FAF, -8, 1}, {0x1FB8, 0x1FB9, -8, 1},
    {0x1FBA, 0x1FBB, -74, 1}, {0x1FBC, 0x1FBC, -9, 1}, {0x1FC8, 0x1FCB, -86, 1}, {0x1FCC, 0x1FCC, -9, 1},
    {0x1FD8, 0x1FD9, -8, 1}, {0x1FDA, 0x1FDB, -100, 1}, {0x1FE8, 0x1FE9, -8, 1}, {0x1FEA, 0x1FEB, -112, 1},
    {0x1FEC, 0x1FEC, -7, 1}, {0x1FF8, 0x1FF9, -128, 1}, {0x1FFA, 0x1FFB, -126, 1}, {0x1FFC, 0x1FFC, -9, 1},
    {0x2126, 0x2126, -7517, 1}, {0x212A, 0x212A, -8383, 1}, {0x212B, 0x212B, -8262, 1}, {0x2132, 0x2132, 28, 1},
    {0x2160, 0x216F, 16, 1}, {0x2183, 0x2183, 1, 1}, {0x24B6, 0x24CF, 26, 1}, {0x2C00, 0x2C2F, 48, 1},
    {0x2C60, 0x2C60, 1, 1}, {0x2C62, 0x2C62, -10743, 1}, {0x2C63, 0x2C63, -3814, 1}, {0x2C64, 0x2C64, -10727, 1},
    {0x2C67, 0x2C6B, 1, 2}, {0x2C6D, 0x2C6D, -10780, 1}, {0x2C6E, 0x2C6E, -10749, 1}, {0x2C6F, 0x2C6F, -10783, 1},
    {0x2C70, 0x2C70, -10782, 1}, {0x2C72, 0x2C72, 1, 1}, {0x2C75, 0x2C75, 1, 1}, {0x2C7E, 0x2C7F, -10815, 1},
    {0x2C80, 0x2CE2, 1, 2}, {0x2CEB, 0x2CED, 1, 2}, {0x2CF2, 0x2CF2, 1, 1}, {0xA640, 0xA66C, 1, 2},
    {0xA680, 0xA69A, 1, 2}, {0xA722, 0xA72E, 1, 2}, {0xA732, 0xA76E, 1, 2}, {0xA779, 0xA77B, 1, 2},
    {0xA77D, 0xA77D, -35332, 1}, {0xA77E, 0xA786, 1, 2}, {0xA78B, 0xA78B, 1, 1}, {0xA78D, 0xA78D, -42280, 1},
    {0xA790, 0xA792, 1, 2}, {0xA796, 0xA7A8, 1, 2}, {0xA7AA, 0xA7AA, -42308, 1}, {0xA7AB, 0xA7AB, -42319, 1},
    {0xA7AC, 0xA7AC, -42315, 1}, {0xA7AD, 0xA7AD, -42305, 1}, {0xA7AE, 0xA7AE, -42308, 1}, {0xA7B0, 0xA7B0, -42258, 1},
    {0xA7B1, 0xA7B1, -42282, 1}, {0xA7B2, 0xA7B2, -42261, 1}, {0xA7B3, 0xA7B3, 928, 1}, {0xA7B4, 0xA7C2, 1, 2},
    {0xA7C4, 0xA7C4, -48, 1}, {0xA7C5, 0xA7C5, -42307, 1}, {0xA7C6, 0xA7C6, -35384, 1}, {0xA7C7, 0xA7C9, 1, 2},
    {0xA7D0, 0xA7D0, 1, 1}, {0xA7D6, 0xA7D8, 1, 2}, {0xA7F5, 0xA7F5, 1, 1}, {0xFF21, 0xFF3A, 32, 1},
    {0x10400, 0x10427, 40, 1}, {0x104B0, 0x104D3, 40, 1}, {0x10570, 0x1057A, 39, 1}, {0x1057C, 0x1058A, 39, 1},
    {0x1058C, 0x10592, 39, 1}, {0x10594, 0x10595, 39, 1}, {0x10C80, 0x10CB2, 64, 1}, {0x118A0, 0x118BF, 32, 1},
    {0x16E40, 0x16E5F, 32, 1}, {0x1E900, 0x1E921, 34, 1},
};
constexpr SigmaRange kSigmaRanges[] = {
    {0x27, 0x27, 'I'}, {0x2E, 0x2E, 'I'}, {0x3A, 0x3A, 'I'}, {0x41, 0x5A, 'C'}, {0x5E, 0x5E, 'I'}, {0x60, 0x60, 'I'},
    {0x61, 0x7A, 'C'}, {0xA8, 0xA8, 'I'}, {0xAA, 0xAA, 'C'}, {0xAD, 0xAD, 'I'}, {0xAF, 0xAF, 'I'}, {0xB4, 0xB4, 'I'},
    {0xB5, 0xB5, 'C'}, {0xB7, 0xB8, 'I'}, {0xBA, 0xBA, 'C'}, {0xC0, 0xD6, 'C'}, {0xD8, 0xF6, 'C'}, {0xF8, 0x1BA, 'C'},
    {0x1BC, 0x1BF, 'C'}, {0x1C4, 0x293, 'C'}, {0x295, 0x2AF, 'C'}, {0x2B0, 0x36F, 'I'}, {0x370, 0x373, 'C'},
    {0x374, 0x375, 'I'}, {0x376, 0x377, 'C'}, {0x37A, 0x37A, 'I'}, {0x37B, 0x37D, 'C'}, {0x37F, 0x37F, 'C'},
    {0x384, 0x385, 'I'}, {0x386, 0x386, 'C'}, {0x387, 0x387, 'I'}, {0x388, 0x38A, 'C'}, {0x38C, 0x38C, 'C'},
    {0x38E, 0x3A1, 'C'}, {0x3A3, 0x3F5, 'C'}, {0x3F7, 0x481, 'C'}, {0x483, 0x489, 'I'}, {0x48A, 0x52F, 'C'},
    {0x531, 0x556, 'C'}, {0x559, 0x559, 'I'}, {0x55F, 0x55F, 'I'}, {0x560, 0x588, 'C'}, {0x591, 0x5BD, 'I'},
    {0x5BF, 0x5BF, 'I'}, {0x5C1, 0x5C2, 'I'}, {0x5C4, 0x5C5, 'I'}, {0x5C7, 0x5C7, 'I'}, {0x5F4, 0x5F4, 'I'},
    {0x600, 0x605, 'I'}, {0x610, 0x61A, 'I'}, {0x61C, 0x61C, 'I'}, {0x640, 0x640, 'I'}, {0x64B, 0x65F, 'I'},
    {0x670, 0x670, 'I'}, {0x6D6, 0x6DD, 'I'}, {0x6DF, 0x6E8, 'I'}, {0x6EA, 0x6ED, 'I'}, {0x70F, 0x70F, 'I'},
    {0x711, 0x711, 'I'}, {0x730, 0x74A, 'I'}, {0x7A6, 0x7B0, 'I'}, {0x7EB, 0x7F5, 'I'}, {0x7FA, 0x7FA, 'I'},
    {0x7FD, 0x7FD, 'I'}, {0x816, 0x82D, 'I'}, {0x859, 0x85B, 'I'}, {0x888, 0x888, 'I'}, {0x890, 0x891, 'I'},
    {0x898, 0x89F, 'I'}, {0x8C9, 0x902, 'I'}, {0x93A, 0x93A, 'I'}, {0x93C, 0x93C, 'I'}, {0x941, 0x948, 'I'},
    {0x94D, 0x94D, 'I'}, {0x951, 0x957, 'I'}, {0x962, 0x963, 'I'}, {0x971, 0x971, 'I'}, {0x981, 0x981, 'I'},
    {0x9BC, 0x9BC, 'I'}, {0x9C1, 0x9C4, 'I'}, {0x9CD, 0x9CD, 'I'}, {0x9E2, 0x9E3, 'I'}, {0x9FE, 0x9FE, 'I'},
    {0xA01, 0xA02, 'I'}, {0xA3C, 0xA3C, 'I'}, {0xA41, 0xA42, 'I'}, {0xA47, 0xA48, 'I'}, {0xA4B, 0xA4D, 'I'},
    {0xA51, 0xA51, 'I'}, {0xA70, 0xA71, 'I'}, {0xA75, 0xA75, 'I'}, {0xA81, 0xA82, 'I'}, {0xABC, 0xABC, 'I'},
    {0xAC1, 0xAC5, 'I'}, {0xAC7, 0xAC8, 'I'}, {0xACD, 0xACD, 'I'}, {0xAE2, 0xAE3, 'I'}, {0xAFA, 0xAFF, 'I'},
    {0xB01, 0xB01, 'I'}, {0xB3C, 0xB3C, 'I'}, {0xB3F, 0xB3F, 'I'}, {0xB41, 0xB44, 'I'}, {0xB4D, 0xB4D, 'I'},
    {0xB55, 0xB56, 'I'}, {0xB62, 0xB63, 'I'}, {0xB82, 0xB82, 'I'}, {0xBC0, 0xBC0, 'I'}, {0xBCD, 0xBCD, 'I'},
    {0xC00, 0xC00, 'I'}, {0xC04, 0xC04, 'I'}, {0xC3C, 0xC3C, 'I'}, {0xC3E, 0xC40, 'I'}, {0xC46, 0xC48, 'I'},
    {0xC4A, 0xC4D, 'I'}, {0xC55, 0xC56, 'I'}, {0xC62, 0xC63, 'I'}, {0xC81, 0xC81, 'I'}, {0xCBC, 0xCBC, 'I'},
    {0xCBF, 0xCBF, 'I'}, {0xCC6, 0xCC6, 'I'}, {0xCCC, 0xCCD, 'I'}, {0xCE2, 0xCE3, 'I'}, {0xD00, 0xD01, 'I'},
    {0xD3B, 0xD3C, 'I'}, {0xD41, 0xD44, 'I'}, {0xD4D, 0xD4D, 'I'}, {0xD62, 0xD63, 'I'}, {0xD81, 0xD81, 'I'},
    {0xDCA, 0xDCA, 'I'}, {0xDD2, 0xDD4, 'I'}, {0xDD6, 0xDD6, 'I'}, {0xE31, 0xE31, 'I'}, {0xE34, 0xE3A, 'I'},
    {0xE46, 0xE4E, 'I'}, {0xEB1, 0xEB1, 'I'}, {0xEB4, 0xEBC, 'I'}, {0xEC6, 0xEC6, 'I'}, {0xEC8, 0xECD, 'I'},
    {0xF18, 0xF19, 'I'}, {0xF35, 0xF35, 'I'}, {0xF37, 0xF37, 'I'}, {0xF39, 0xF39, 'I'}, {0xF71, 0xF7E, 'I'},
    {0xF80, 0xF84, 'I'}, {0xF86, 0xF87, 'I'}, {0xF8D, 0xF97, 'I'}, {0xF99, 0xFBC, 'I'}, {0xFC6, 0xFC6, 'I'},
    {0x102D, 0x1030, 'I'}, {0x1032, 0x1037, 'I'}, {0x1039, 0x103A, 'I'}, {0x103D, 0x103E, 'I'}, {0x1058, 0x1059, 'I'},
    {0x105E, 0x1060, 'I'}, {0x1071, 0x1074, 'I'}, {0x1082, 0x1082, 'I'}, {0x1085, 0x1086, 'I'}, {0x108D, 0x108D, 'I'},
    {0x109D, 0x109D, 'I'}, {0x10A0, 0x10C5, 'C'}, {0x10C7, 0x10C7, 'C'}, {0x10CD, 0x10CD, 'C'}, {0x10D0, 0x10FA, 'C'},
    {0x10FC, 0x10FC, 'I'}, {0x10FD, 0x10FF, 'C'}, {0x135D, 0x135F, 'I'}, {0x13A0, 0x13F5, 'C'}, {0x13F8, 0x13FD, 'C'},
    {0x1712, 0x1714, 'I'}, {0x1732, 0x1733, 'I'}, {0x1752, 0x1753, 'I'}, {0x1772, 0x1773, 'I'}, {0x17B4, 0x17B5, 'I'},
    {0x17B7, 0x17BD, 'I'}, {0x17C6, 0x17C6, 'I'}, {0x17C9, 0x17D3, 'I'}, {0x17D7, 0x17D7, 'I'}, {0x17DD, 0x17DD, 'I'},
    {0x180B, 0x180F, 'I'}, {0x1843, 0x1843, 'I'}, {0x1885, 0x1886, 'I'}, {0x18A9, 0x18A9, 'I'}, {0x1920, 0x1922, 'I'},
    {0x1927, 0x1928, 'I'}, {0x1932, 0x1932, 'I'}, {0x1939, 0x193B, 'I'}, {0x1A17, 0x1A18, 'I'}, {0x1A1B, 0x1A1B, 'I'},
    {0x1A56, 0x1A56, 'I'}, {0x1A58, 0x1A5E, 'I'}, {0x1A60, 0x1A60, 'I'}, {0x1A62, 0x1A62, 'I'}, {0x1A65, 0x1A6C, 'I'},
    {0x1A73, 0x1A7C, 'I'}, {0x1A7F, 0x1A7F, 'I'}, {0x1AA7, 0x1AA7, 'I'}, {0x1AB0, 0x1ACE, 'I'}, {0x1B00, 0x1B03, 'I'},
    {0x1B34, 0x1B34, 'I'}, {0x1B36, 0x1B3A, 'I'}, {0x1B3C, 0x1B3C, 'I'}, {0x1B42, 0x1B42, 'I'}, {0x1B6B, 0x1B73, 'I'},
    {0x1B80, 0x1B81, 'I'}, {0x1BA2, 0x1BA5, 'I'}, {0x1BA8, 0x1BA9, 'I'}, {0x1BAB, 0x1BAD, 'I'}, {0x1BE6, 0x1BE6, 'I'},
    {0x1BE8, 0x1BE9, 'I'}, {0x1BED, 0x1BED, 'I'}, {0x1BEF, 0x1BF1, 'I'}, {0x1C2C, 0x1C33, 'I'}, {0x1C36, 0x1C37, 'I'},
    {0x1C78, 0x1C7D, 'I'}, {0x1C80, 0x1C88, 'C'}, {0x1C90, 0x1CBA, 'C'}, {0x1CBD, 0x1CBF, 'C'}, {0x1CD0, 0x1CD2, 'I'},
    {0x1CD4, 0x1CE0, 'I'}, {0x1CE2, 0x1CE8, 'I'}, {0x1CED, 0x1CED, 'I'}, {0x1CF4, 0x1CF4, 'I'}, {0x1CF8, 0x1CF9, 'I'},
    {0x1D00, 0x1D2B, 'C'}, {0x1D2C, 0x1D6A, 'I'}, {0x1D6B, 0x1D77, 'C'}, {0x1D78, 0x1D78, 'I'}, {0x1D79, 0x1D9A, 'C'},
    {0x1D9B, 0x1DFF, 'I'}, {0x1E00, 0x1F15, 'C'}, {0x1F18, 0x1F1D, 'C'}, {0x1F20, 0x1F45, 'C'}, {0x1F48, 0x1F4D, 'C'},
    {0x1F50, 0x1F57, 'C'}, {0x1F59, 0x1F59, 'C'}, {0x1F5B, 0x1F5B, 'C'}, {0x1F5D, 0x1F5D, 'C'}, {0x1F5F, 0x1F7D, 'C'},
    {0x1F80, 0x1FB4, 'C'}, {0x1FB6, 0x1FBC, 'C'}, {0x1FBD, 0x1FBD, 'I'}, {0x1FBE, 0x1FBE, 'C'}, {0x1FBF, 0x1FC1, 'I'},
    {0x1FC2, 0x1FC4, 'C'}, {0x1FC6, 0x1FCC, 'C'}, {0x1FCD, 0x1FCF, 'I'}, {0x1FD0, 0x1FD3, 'C'}, {0x1FD6, 0x1FDB, 'C'},
    {0x1FDD, 0x1FDF, 'I'}, {0x1FE0, 0x1FEC, 'C'}, {0x1FED, 0x1FEF, 'I'}, {0x1FF2, 0x1FF4, 'C'}, {0x1FF6, 0x1FFC, 'C'},
    {0x1FFD, 0x1FFE, 'I'}, {0x200B, 0x200F, 'I'}, {0x2018, 0x2019, 'I'}, {0x2024, 0x2024, 'I'}, {0x2027, 0x2027, 'I'},
    {0x202A, 0x202E, 'I'}, {0x2060, 0x2064, 'I'}, {0x2066, 0x206F, 'I'}, {0x2071, 0x2071, 'I'}, {0x207F, 0x207F, 'I'},
    {0x2090, 0x209C, 'I'}, {0x20D0, 0x20F0, 'I'}, {0x2102, 0x2102, 'C'}, {0x2107, 0x2107, 'C'}, {0x210A, 0x2113, 'C'},
    {0x2115, 0x2115, 'C'}, {0x2119, 0x211D, 'C'}, {0x2124, 0x2124, 'C'}, {0x2126, 0x2126, 'C'}, {0x2128, 0x2128, 'C'},
    {0x212A, 0x212D, 'C'}, {0x212F, 0x2134, 'C'}, {0x2139, 0x2139, 'C'}, {0x213C, 0x213F, 'C'}, {0x2145, 0x2149, 'C'},
    {0x214E, 0x214E, 'C'}, {0x2160, 0x217F, 'C'}, {0x2183, 0x2184, 'C'}, {0x24B6, 0x24E9, 'C'}, {0x2C00, 0x2C7B, 'C'},
    {0x2C7C, 0x2C7D, 'I'}, {0x2C7E, 0x2CE4, 'C'}, {0x2CEB, 0x2CEE, 'C'}, {0x2CEF, 0x2CF1, 'I'}, {0x2CF2, 0x2CF3, 'C'},
    {0x2D00, 0x2D25, 'C'}, {0x2D27, 0x2D27, 'C'}, {0x2D2D, 0x2D2D, 'C'}, {0x2D6F, 0x2D6F, 'I'}, {0x2D7F, 0x2D7F, 'I'},
    {0x2DE0, 0x2DFF, 'I'}, {0x2E2F, 0x2E2F, 'I'}, {0x3005, 0x3005, 'I'}, {0x302A, 0x302D, 'I'}, {0x3031, 0x3035, 'I'},
    {0x303B, 0x303B, 'I'}, {0x3099, 0x309E, 'I'}, {0x30FC, 0x30FE, 'I'}, {0xA015, 0xA015, 'I'}, {0xA4F8, 0xA4FD, 'I'},
    {0xA60C, 0xA60C, 'I'}, {0xA640, 0xA66D, 'C'}, {0xA66F, 0xA672, 'I'}, {0xA674, 0xA67D, 'I'}, {0xA67F, 0xA67F, 'I'},
    {0xA680, 0xA69B, 'C'}, {0xA69C, 0xA69F, 'I'}, {0xA6F0, 0xA6F1, 'I'}, {0xA700, 0xA721, 'I'}, {0xA722, 0xA76F, 'C'},
    {0xA770, 0xA770, 'I'}, {0xA771, 0xA787, 'C'}, {0xA788, 0xA78A, 'I'}, {0xA78B, 0xA78E, 'C'}, {0xA790, 0xA7CA, 'C'},
    {0xA7D0, 0xA7D1, 'C'}, {0xA7D3, 0xA7D3, 'C'}, {0xA7D5, 0xA7D9, 'C'}, {0xA7F2, 0xA7F4, 'I'}, {0xA7F5, 0xA7F6, 'C'},
    {0xA7F8, 0xA7F9, 'I'}, {0xA7FA, 0xA7FA, 'C'}, {0xA802, 0xA802, 'I'}, {0xA806, 0xA806, 'I'}, {0xA80B, 0xA80B, 'I'},
    {0xA825, 0xA826, 'I'}, {0xA82C, 0xA82C, 'I'}, {0xA8C4, 0xA8C5, 'I'}, {0xA8E0, 0xA8F1, 'I'}, {0xA8FF, 0xA8FF, 'I'},
    {0xA926, 0xA92D, 'I'}, {0xA947, 0xA951, 'I'}, {0xA980, 0xA982, 'I'}, {0xA9B3, 0xA9B3, 'I'}, {0xA9B6, 0xA9B9, 'I'},
    {0xA9BC, 0xA9BD, 'I'}, {0xA9CF, 0xA9CF, 'I'}, {0xA9E5, 0xA9E6, 'I'}, {0xAA29, 0xAA2E, 'I'}, {0xAA31, 0xAA32, 'I'},
    {0xAA35, 0xAA36, 'I'}, {0xAA43, 0xAA43, 'I'}, {0xAA4C, 0xAA4C, 'I'}, {0xAA70, 0xAA70, 'I'}, {0xAA7C, 0xAA7C, 'I'},
    {0xAAB0, 0xAAB0, 'I'}, {0xAAB2, 0xAAB4, 'I'}, {0xAAB7, 0xAAB8, 'I'}, {0xAABE, 0xAABF, 'I'}, {0xAAC1, 0xAAC1, 'I'},
    {0xAADD, 0xAADD, 'I'}, {0xAAEC, 0xAAED, 'I'}, {0xAAF3, 0xAAF4, 'I'}, {0xAAF6, 0xAAF6, 'I'}, {0xAB30, 0xAB5A, 'C'},
    {0xAB5B, 0xAB5F, 'I'}, {0xAB60, 0xAB68, 'C'}, {0xAB69, 0xAB6B, 'I'}, {0xAB70, 0xABBF, 'C'}, {0xABE5, 0xABE5, 'I'},
    {0xABE8, 0xABE8, 'I'}, {0xABED, 0xABED, 'I'}, {0xFB00, 0xFB06, 'C'}, {0xFB13, 0xFB17, 'C'}, {0xFB1E, 0xFB1E, 'I'},
    {0xFBB2, 0xFBC2, 'I'}, {0xFE00, 0xFE0F, 'I'}, {0xFE13, 0xFE13, 'I'}, {0xFE20, 0xFE2F, 'I'}, {0xFE52, 0xFE52, 'I'},
    {0xFE55, 0xFE55, 'I'}, {0xFEFF, 0xFEFF, 'I'}, {0xFF07, 0xFF07, 'I'}, {0xFF0E, 0xFF0E, 'I'}, {0xFF1A, 0xFF1A, 'I'},
    {0xFF21, 0xFF3A, 'C'}, {0xFF3E, 0xFF3E, 'I'}, {0xFF40, 0xFF40, 'I'}, {0xFF41, 0xFF5A, 'C'}, {0xFF70, 0xFF70, 'I'},
    {0xFF9E, 0xFF9F, 'I'}, {0xFFE3, 0xFFE3, 'I'}, {0xFFF9, 0xFFFB, 'I'}, {0x101FD, 0x101FD, 'I'},
    {0x102E0, 0x102E0, 'I'}, {0x10376, 0x1037A, 'I'}, {0x10400, 0x1044F, 'C'}, {0x104B0, 0x104D3, 'C'},
    {0x104D8, 0x104FB, 'C'}, {0x10570, 0x1057A, 'C'}, {0x1057C, 0x1058A, 'C'}, {0x1058C, 0x10592, 'C'},
    {0x10594, 0x10595, 'C'}, {0x10597, 0x105A1, 'C'}, {0x105A3, 0x105B1, 'C'}, {0x105B3, 0x105B9, 'C'},
    {0x105BB, 0x105BC, 'C'}, {0x10780, 0x10785, 'I'}, {0x10787, 0x107B0, 'I'}, {0x107B2, 0x107BA, 'I'},
    {0x10A01, 0x10A03, 'I'}, {0x10A05, 0x10A06, 'I'}, {0x10A0C, 0x10A0F, 'I'}, {0x10A38, 0x10A3A, 'I'},
    {0x10A3F, 0x10A3F, 'I'}, {0x10AE5, 0x10AE6, 'I'}, {0x10C80, 0x10CB2, 'C'}, {0x10CC0, 0x10CF2, 'C'},
    {0x10D24, 0x10D27, 'I'}, {0x10EAB, 0x10EAC, 'I'}, {0x10F46, 0x10F50, 'I'}, {0x10F82, 0x10F85, 'I'},
    {0x11001, 0x11001, 'I'}, {0x11038, 0x11046, 'I'}, {0x11070, 0x11070, 'I'}, {0x11073, 0x11074, 'I'},
    {0x1107F, 0x11081, 'I'}, {0x110B3, 0x110B6, 'I'}, {0x110B9, 0x110BA, 'I'}, {0x110BD, 0x110BD, 'I'},
    {0x110C2, 0x110C2, 'I'}, {0x110CD, 0x110CD, 'I'}, {0x11100, 0x11102, 'I'}, {0x11127, 0x1112B, 'I'},
    {0x1112D, 0x11134, 'I'}, {0x11173, 0x11173, 'I'}, {0x11180, 0x11181, 'I'}, {0x111B6, 0x111BE, 'I'},
    {0x111C9, 0x111CC, 'I'}, {0x111CF, 0x111CF, 'I'}, {0x1122F, 0x11231, 'I'}, {0x11234, 0x11234, 'I'},
    {0x11236, 0x11237, 'I'}, {0x1123E, 0x1123E, 'I'}, {0x112DF, 0x112DF, 'I'}, {0x112E3, 0x112EA, 'I'},
    {0x11300, 0x11301, 'I'}, {0x1133B, 0x1133C, 'I'}, {0x11340, 0x11340, 'I'}, {0x11366, 0x1136C, 'I'},
    {0x11370, 0x11374, 'I'}, {0x11438, 0x1143F, 'I'}, {0x11442, 0x11444, 'I'}, {0x11446, 0x11446, 'I'},
    {0x1145E, 0x1145E, 'I'}, {0x114B3, 0x114B8, 'I'}, {0x114BA, 0x114BA, 'I'}, {0x114BF, 0x114C0, 'I'},
    {0x114C2, 0x114C3, 'I'}, {0x115B2, 0x115B5, 'I'}, {0x115BC, 0x115BD, 'I'}, {0x115BF, 0x115C0, 'I'},
    {0x115DC, 0x115DD, 'I'}, {0x11633, 0x1163A, 'I'}, {0x1163D, 0x1163D, 'I'}, {0x1163F, 0x11640, 'I'},
    {0x116AB, 0x116AB, 'I'}, {0x116AD, 0x116AD, 'I'}, {0x116B0, 0x116B5, 'I'}, {0x116B7, 0x116B7, 'I'},
    {0x1171D, 0x1171F, 'I'}, {0x11722, 0x11725, 'I'}, {0x11727, 0x1172B, 'I'}, {0x1182F, 0x11837, 'I'},
    {0x11839, 0x1183A, 'I'}, {0x118A0, 0x118DF, 'C'}, {0x1193B, 0x1193C, 'I'}, {0x1193E, 0x1193E, 'I'},
    {0x11943, 0x11943, 'I'}, {0x119D4, 0x119D7, 'I'}, {0x119DA, 0x119DB, 'I'}, {0x119E0, 0x119E0, 'I'},
    {0x11A01, 0x11A0A, 'I'}, {0x11A33, 0x11A38, 'I'}, {0x11A3B, 0x11A3E, 'I'}, {0x11A47, 0x11A47, 'I'},
    {0x11A51, 0x11A56, 'I'}, {0x11A59, 0x11A5B, 'I'}, {0x11A8A, 0x11A96, 'I'}, {0x11A98, 0x11A99, 'I'},
    {0x11C30, 0x11C36, 'I'}, {0x11C38, 0x11C3D, 'I'}, {0x11C3F, 0x11C3F, 'I'}, {0x11C92, 0x11CA7, 'I'},
    {0x11CAA, 0x11CB0, 'I'}, {0x11CB2, 0x11CB3, 'I'}, {0x11CB5, 0x11CB6, 'I'}, {0x11D31, 0x11D36, 'I'},
    {0x11D3A, 0x11D3A, 'I'}, {0x11D3C, 0x11D3D, 'I'}, {0x11D3F, 0x11D45, 'I'}, {0x11D47, 0x11D47, 'I'},
    {0x11D90, 0x11D91, 'I'}, {0x11D95, 0x11D95, 'I'}, {0x11D97, 0x11D97, 'I'}, {0x11EF3, 0x11EF4, 'I'},
    {0x13430, 0x13438, 'I'}, {0x16AF0, 0x16AF4, 'I'}, {0x16B30, 0x16B36, 'I'}, {0x16B40, 0x16B43, 'I'},
    {0x16E40, 0x16E7F, 'C'}, {0x16F4F, 0x16F4F, 'I'}, {0x16F8F, 0x16F9F, 'I'}, {0x16FE0, 0x16FE1, 'I'},
    {0x16FE3, 0x16FE4, 'I'}, {0x1AFF0, 0x1AFF3, 'I'}, {0x1AFF5, 0x1AFFB, 'I'}, {0x1AFFD, 0x1AFFE, 'I'},
    {0x1BC9D, 0x1BC9E, 'I'}, {0x1BCA0, 0x1BCA3, 'I'}, {0x1CF00, 0x1CF2D, 'I'}, {0x1CF30, 0x1CF46, 'I'},
    {0x1D167, 0x1D169, 'I'}, {0x1D173, 0x1D182, 'I'}, {0x1D185, 0x1D18B, 'I'}, {0x1D1AA, 0x1D1AD, 'I'},
    {0x1D242, 0x1D244, 'I'}, {0x1D400, 0x1D454, 'C'}, {0x1D456, 0x1D49C, 'C'}, {0x1D49E, 0x1D49F, 'C'},
    {0x1D4A2, 0x1D4A2, 'C'}, {0x1D4A5, 0x1D4A6, 'C'}, {0x1D4A9, 0x1D4AC, 'C'}, {0x1D4AE, 0x1D4B9, 'C'},
    {0x1D4BB, 0x1D4BB, 'C'}, {0x1D4BD, 0x1D4C3, 'C'}, {0x1D4C5, 0x1D505, 'C'}, {0x1D507, 0x1D50A, 'C'},
    {0x1D50D, 0x1D514, 'C'}, {0x1D516, 0x1D51C, 'C'}, {0x1D51E, 0x1D539, 'C'}, {0x1D53B, 0x1D53E, 'C'},
    {0x1D540, 0x1D544, 'C'}, {0x1D546, 0x1D546, 'C'}, {0x1D54A, 0x1D550, 'C'}, {0x1D552, 0x1D6A5, 'C'},
    {0x1D6A8, 0x1D6C0, 'C'}, {0x1D6C2, 0x1D6DA, 'C'}, {0x1D6DC, 0x1D6FA, 'C'}, {0x1D6FC, 0x1D714, 'C'},
    {0x1D716, 0x1D734, 'C'}, {0x1D736, 0x1D74E, 'C'}, {0x1D750, 0x1D76E, 'C'}, {0x1D770, 0x1D788, 'C'},
    {0x1D78A, 0x1D7A8, 'C'}, {0x1D7AA, 0x1D7C2, 'C'}, {0x1D7C4, 0x1D7CB, 'C'}, {0x1DA00, 0x1DA36, 'I'},
    {0x1DA3B, 0x1DA6C, 'I'}, {0x1DA75, 0x1DA75, 'I'}, {0x1DA84, 0x1DA84, 'I'}, {0x1DA9B, 0x1DA9F, 'I'},
    {0x1DAA1, 0x1DAAF, 'I'}, {0x1DF00, 0x1DF09, 'C'}, {0x1DF0B, 0x1DF1E, 'C'}, {0x1E000, 0x1E006, 'I'},
    {0x1E008, 0x1E018, 'I'}, {0x1E01B, 0x1E021, 'I'}, {0x1E023, 0x1E024, 'I'}, {0x1E026, 0x1E02A, 'I'},
    {0x1E130, 0x1E13D, 'I'}, {0x1E2AE, 0x1E2AE, 'I'}, {0x1E2EC, 0x1E2EF, 'I'}, {0x1E8D0, 0x1E8D6, 'I'},
    {0x1E900, 0x1E943, 'C'}, {0x1E944, 0x1E94B, 'I'}, {0x1F130, 0x1F149, 'C'}, {0x1F150, 0x1F169, 'C'},
    {0x1F170, 0x1F189, 'C'}, {0x1F3FB, 0x1F3FF, 'I'}, {0xE0001, 0xE0001, 'I'}, {0xE0020, 0xE007F, 'I'},
    {0xE0100, 0xE01EF, 'I'},
};
// clang-format on

/// The entry of a sorted table of disjoint ranges that holds `cp`, or nullptr.
template <typename Entry, size_t N>
const Entry* find_range(const Entry (&table)[N], char32_t cp) {
  const Entry* after = std::upper_bound(std::begin(table), std::end(table), cp,
                                        [](char32_t value, const Entry& entry) { return value < entry.first; });
  return after == std::begin(table) || cp > (after - 1)->last ? nullptr : after - 1;
}

char32_t simple_lower(char32_t cp) {
  const LowerRun* run = find_range(kLowerRuns, cp);
  if (run == nullptr || (cp - run->first) % run->stride != 0) return cp;
  return static_cast<char32_t>(static_cast<int32_t>(cp) + run->delta);
}

SigmaContext sigma_context(char32_t cp) {
  const SigmaRange* range = find_range(kSigmaRanges, cp);
  if (range == nullptr) return SigmaContext::kOther;
  return range->kind == 'C' ? SigmaContext::kCased : SigmaContext::kIgnorable;
}

}  // namespace bleu_detail
}  // namespace torchzoo::train
