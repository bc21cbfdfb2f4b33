#pragma once
// Corpus chrF (Popović, 2015, "chrF: character n-gram F-score for automatic MT
// evaluation", WMT) exactly as sacreBLEU 2.6.0 computes it with its defaults,
// next to BLEU (train/metrics/bleu.h):
//
//  * whitespace (Python's str.split() set) is removed from each line;
//  * character n-grams of orders 1..6 (code points, not bytes) are counted in
//    the hypothesis and the reference; matches are clipped counts; with several
//    references, each line takes the reference whose own chrF is highest;
//  * the counts are summed over the corpus; precision and recall are averaged
//    over the orders that have n-grams on both sides (sacreBLEU's "effective
//    order"), then combined as F-beta with beta = 2 (recall counts twice).
//
// chrF++ (word_order 2) and case-insensitive scoring are options, as in sacreBLEU.
//
// Example:
//   auto chrf = torchzoo::train::corpus_chrf(hyps, {refs});
//   std::cout << chrf.text() << "\n";  // as `sacrebleu ref.txt -i hyp.txt -m chrf -f text`
#include <cstdint>
#include <string>
#include <vector>

namespace torchzoo::train {

/// Options of chrF; the defaults are sacreBLEU's.
struct ChrfOptions {
  int char_order = 6;       ///< character n-gram orders 1..char_order
  int word_order = 0;       ///< word n-gram orders 1..word_order (2: chrF++)
  int beta = 2;             ///< recall weight of the F-score
  bool lowercase = false;   ///< Python's str.lower() first ("case:lc")
  bool whitespace = false;  ///< keep whitespace in character n-grams ("space:yes")
};

/// A chrF score (Popović 2015) as sacreBLEU reports it: the score, its statistics and signature.
struct ChrfScore {
  double score = 0.0;  ///< 0..100
  /// [hyp n-grams, ref n-grams, matches] for each order (characters first, then words), summed.
  std::vector<int64_t> statistics;
  /// sacreBLEU's signature, e.g. "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0+torchzoo".
  std::string signature;
  /// "chrF2" or "chrF2++".
  std::string name;

  /// "chrF2|nrefs:1|...|version:2.6.0+torchzoo = 53.4" (`sacrebleu -m chrf -f text`).
  std::string text(int width = 1) const;
  /// sacreBLEU's JSON (`sacrebleu -m chrf`).
  std::string json(int width = 1) const;
};

/// chrF of `hypotheses` against `references` (each a set of lines as long as the hypotheses).
/// Throws std::invalid_argument for no reference set, or sets of other lengths.
ChrfScore corpus_chrf(const std::vector<std::string>& hypotheses,
                      const std::vector<std::vector<std::string>>& references, const ChrfOptions& options = {});

}  // namespace torchzoo::train
