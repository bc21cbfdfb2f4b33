// chrF as sacreBLEU 2.6.0 computes it; chrf.h says what is reproduced. Comments name
// the sacreBLEU function (sacrebleu/metrics/chrf.py, helpers.py) each step mirrors.
#include "torchzoo/train/metrics/chrf.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "torchzoo/common/format.h"
#include "torchzoo/common/utf8.h"
#include "torchzoo/train/metrics/bleu.h"

namespace torchzoo::train {
namespace chrf_detail {

/// A line as characters: code points, each byte of an invalid UTF-8 sequence a character of its own
/// (above U+10FFFF, so it equals no real one).
std::u32string characters(std::string_view line) {
  std::u32string out;
  for (size_t i = 0; i < line.size();) {
    const auto cp = common::decode_utf8(line, i);
    if (cp.length == 0) {
      out.push_back(0x110000 + static_cast<unsigned char>(line[i]));
      ++i;
    } else {
      out.push_back(cp.value);
      i += cp.length;
    }
  }
  return out;
}

using Counts = std::unordered_map<std::u32string, int64_t>;

/// extract_all_char_ngrams: n-gram counts of orders 1..max_order, whitespace removed unless kept.
std::vector<Counts> char_ngrams(const std::u32string& line, int max_order, bool keep_whitespace) {
  std::u32string text;
  for (const char32_t c : line) {
    if (keep_whitespace || !python_isspace(c)) text.push_back(c);
  }
  std::vector<Counts> counts(static_cast<size_t>(max_order));
  for (int n = 1; n <= max_order; ++n) {
    for (size_t i = 0; i + n <= text.size(); ++i) ++counts[static_cast<size_t>(n - 1)][text.substr(i, n)];
  }
  return counts;
}

/// CHRF._remove_punctuation: whitespace-split words, one punctuation character split off the end
/// (else the start) of words longer than one character.
std::vector<std::u32string> words_of(const std::u32string& line) {
  const auto is_punct = [](char32_t c) {
    return c < 0x80 &&
           std::string_view("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
  };
  std::vector<std::u32string> words;
  std::u32string word;
  const auto flush = [&] {
    if (word.empty()) return;
    if (word.size() == 1) {
      words.push_back(word);
    } else if (is_punct(word.back())) {
      words.push_back(word.substr(0, word.size() - 1));
      words.push_back(word.substr(word.size() - 1));
    } else if (is_punct(word.front())) {
      words.push_back(word.substr(0, 1));
      words.push_back(word.substr(1));
    } else {
      words.push_back(word);
    }
    word.clear();
  };
  for (const char32_t c : line) {
    if (python_isspace(c)) {
      flush();
    } else {
      word.push_back(c);
    }
  }
  flush();
  return words;
}

/// extract_word_ngrams: n-grams of words joined by a space.
Counts word_ngrams(const std::vector<std::u32string>& words, int n) {
  Counts counts;
  for (size_t i = 0; i + n <= words.size(); ++i) {
    std::u32string gram = words[i];
    for (size_t j = i + 1; j < i + n; ++j) gram += U' ' + words[j];
    ++counts[gram];
  }
  return counts;
}

/// Character then word n-gram counts of a (preprocessed) line.
std::vector<Counts> all_ngrams(const std::string& line, const ChrfOptions& options) {
  const auto text = characters(options.lowercase ? unicode_lower(line) : line);
  auto counts = char_ngrams(text, options.char_order, options.whitespace);
  if (options.word_order > 0) {
    const auto words = words_of(text);
    for (int n = 1; n <= options.word_order; ++n) counts.push_back(word_ngrams(words, n));
  }
  return counts;
}

/// _get_match_statistics for each order: [hypothesis n-grams (0 when the reference has none), reference n-grams,
/// matches].
std::vector<int64_t> match_statistics(const std::vector<Counts>& hyp, const std::vector<Counts>& ref) {
  std::vector<int64_t> stats;
  for (size_t order = 0; order < hyp.size(); ++order) {
    int64_t hyp_count = 0, ref_count = 0, matches = 0;
    for (const auto& [gram, count] : hyp[order]) {
      hyp_count += count;
      if (auto it = ref[order].find(gram); it != ref[order].end()) matches += std::min(count, it->second);
    }
    for (const auto& [gram, count] : ref[order]) ref_count += count;
    stats.insert(stats.end(), {ref[order].empty() ? 0 : hyp_count, ref_count, matches});
  }
  return stats;
}

/// _compute_f_score without eps smoothing: precision and recall averaged over the effective orders.
double f_score(const std::vector<int64_t>& stats, int beta) {
  const double factor = static_cast<double>(beta) * beta;
  double precision = 0.0, recall = 0.0;
  int effective = 0;
  for (size_t i = 0; i + 2 < stats.size(); i += 3) {
    const auto n_hyp = stats[i], n_ref = stats[i + 1], n_match = stats[i + 2];
    if (n_hyp > 0 && n_ref > 0) {
      precision += static_cast<double>(n_match) / static_cast<double>(n_hyp);
      recall += static_cast<double>(n_match) / static_cast<double>(n_ref);
      ++effective;
    }
  }
  if (effective == 0) return 0.0;
  precision /= effective;
  recall /= effective;
  if (precision + recall == 0.0) return 0.0;
  return 100 * ((1 + factor) * precision * recall / (factor * precision + recall));
}

}  // namespace chrf_detail

ChrfScore corpus_chrf(const std::vector<std::string>& hypotheses,
                      const std::vector<std::vector<std::string>>& references, const ChrfOptions& options) {
  if (references.empty()) throw std::invalid_argument("corpus_chrf: expected at least one set of references");
  for (const auto& set : references) {
    if (set.size() != hypotheses.size()) {
      throw std::invalid_argument(
          fmt::format("corpus_chrf: {} hypotheses but a reference set of {} lines", hypotheses.size(), set.size()));
    }
  }
  if (options.char_order < 1 || options.word_order < 0 || options.beta < 1) {
    throw std::invalid_argument(
        fmt::format("corpus_chrf: expected char_order >= 1, word_order >= 0, beta >= 1; got "
                    "{}, {}, {}",
                    options.char_order, options.word_order, options.beta));
  }
  ChrfScore result;
  result.statistics.assign(static_cast<size_t>(3 * (options.char_order + options.word_order)), 0);
  for (size_t line = 0; line < hypotheses.size(); ++line) {
    // _compute_segment_statistics: the reference with the best chrF of its own (the first on ties).
    const auto hyp = chrf_detail::all_ngrams(hypotheses[line], options);
    std::vector<int64_t> best;
    double best_score = -1.0;
    for (const auto& set : references) {
      auto stats = chrf_detail::match_statistics(hyp, chrf_detail::all_ngrams(set[line], options));
      const double score = chrf_detail::f_score(stats, options.beta);
      if (score > best_score) {
        best_score = score;
        best = std::move(stats);
      }
    }
    for (size_t i = 0; i < best.size(); ++i) result.statistics[i] += best[i];
  }
  result.score = chrf_detail::f_score(result.statistics, options.beta);
  result.name = fmt::format("chrF{}{}", options.beta, std::string(static_cast<size_t>(options.word_order), '+'));
  result.signature = fmt::format("nrefs:{}|case:{}|eff:yes|nc:{}|nw:{}|space:{}|version:{}", references.size(),
                                 options.lowercase ? "lc" : "mixed", options.char_order, options.word_order,
                                 options.whitespace ? "yes" : "no", kBleuSignatureVersion);
  return result;
}

std::string ChrfScore::text(int width) const {
  return fmt::format("{}|{} = {:.{}f}", name, signature, score, std::max(width, 0));
}

std::string ChrfScore::json(int width) const { return sacrebleu_json(name, score, std::max(width, 0), signature); }

}  // namespace torchzoo::train
