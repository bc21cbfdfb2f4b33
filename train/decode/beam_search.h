#pragma once
// Batched beam search for an EncoderDecoder: B sentences x beam_size rows
// decode together, one target position per step through the decoder's
// key/value cache (train/decode/next_token_scorer.h), and each sentence leaves the
// batch when its search is over.
//
// Each step, per sentence: every beam's log-probabilities (the generator's
// log_softmax) are added to the beam's cumulative log-probability, and the
// 2 x beam_size best of the beam_size x vocab candidates are taken (fairseq's
// scheme). Candidates ending in end_symbol and ranked within the first
// beam_size become finished hypotheses; the best beam_size that do not end
// continue as the new beams, and the cache rows follow the beams they extend.
// A finished hypothesis is not expanded further.
//
// Score (the ranking of finished hypotheses): GNMT's length normalisation
// (Wu et al. 2016, eq. 14; OpenNMT's "wu" penalty without coverage)
//   score = log P(Y | X) / lp(Y),   lp(Y) = ((5 + |Y|) / 6)^alpha,
// |Y| counting the generated tokens, end symbol included. alpha = 0 ranks by
// log-probability. Beams compete within a step by log-probability (all have
// the same length there).
//
// A sentence's search ends at the first of (with n_best-th the n_best-th best
// finished score, and live beams compared by their best log-probability):
//   - no live beam can still beat n_best-th: n_best-th >= live / lp(max
//     length). Log-probs only fall as a beam grows and lp only grows with
//     alpha >= 0, so this bound is exact (Hugging Face's early_stopping="never");
//   - beam_size hypotheses have finished and no live beam beats n_best-th at
//     its current length: n_best-th >= live / lp(current length). Exact for
//     alpha = 0; with alpha > 0 a live beam could still overtake by growing
//     longer, the heuristic of Hugging Face's default (early_stopping=False).
//     Stopping at beam_size finished hypotheses alone (fairseq) returns, from a
//     confident model, a few early-ended poor beams while the best one is
//     still live, sometimes worse than greedy decoding;
//   - its maximum length, min(max_len_a * source tokens + max_len_b, max_len)
//     tokens (floor): that step's beam_size best candidates are all finished,
//     ending in the end symbol or not.
//
// Shapes: src [B, T_src] int64, src_mask bool [B, 1, T_src] (true = a source
// token; its row sums are the source lengths).
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "torchzoo/models/encoder_decoder.h"

namespace torchzoo::train {

/// Options of beam search: the start and end symbols, the beams, the length penalty and the
/// output length bound.
struct BeamSearchOptions {
  BeamSearchOptions(int64_t start_symbol, int64_t end_symbol) : start_symbol_(start_symbol), end_symbol_(end_symbol) {}
  /// First target token (fed to the decoder, not part of the output).
  TORCH_ARG(int64_t, start_symbol);
  /// End-of-sequence token (not part of the output), or -1 for none: every hypothesis then has the maximum length.
  TORCH_ARG(int64_t, end_symbol);
  /// Beams per sentence.
  TORCH_ARG(int64_t, beam_size) = 4;
  /// Hypotheses returned per sentence, best first (at most beam_size).
  TORCH_ARG(int64_t, n_best) = 1;
  /// alpha of the GNMT length penalty ((5 + |Y|) / 6)^alpha; 0 ranks by log-probability. Must be >= 0.
  TORCH_ARG(double, length_penalty) = 0.6;
  /// Maximum output length (tokens, end symbol included) = max_len_a * source tokens + max_len_b ...
  TORCH_ARG(double, max_len_a) = 1.5;
  /// The constant term of the maximum output length (see max_len_a).
  TORCH_ARG(int64_t, max_len_b) = 10;
  /// ... and at most this.
  TORCH_ARG(int64_t, max_len) = 256;
  /// A token never generated (fairseq never selects padding), or -1 for none.
  TORCH_ARG(int64_t, pad) = 0;
  /// Incremental decoding with cached keys and values; false re-runs the decoder on the prefix each step.
  TORCH_ARG(bool, use_cache) = true;
};

/// The longest output (tokens, end symbol included) for a source of `source_tokens` tokens:
/// min(floor(max_len_a * source_tokens) + max_len_b, max_len), and at least 1. Beam search and the
/// Translator's greedy decoding both stop each sentence there.
int64_t max_output_length(int64_t source_tokens, double max_len_a, int64_t max_len_b, int64_t max_len);

/// One finished hypothesis.
struct Hypothesis {
  /// Output tokens, without the start and end symbols.
  std::vector<int64_t> tokens;
  /// Length-normalised log-probability: log_prob / lp(|Y|).
  double score = 0.0;
  /// log P(tokens, end symbol | source), the sum of the steps' log-probabilities.
  double log_prob = 0.0;
};

/// GNMT's length penalty ((5 + length) / 6)^alpha.
double length_penalty(int64_t length, double alpha);

/// For each sentence of the batch, its n_best hypotheses, best score first (fewer only if fewer than n_best
/// candidates ever had a non-zero probability).
///
/// Example:
///   auto nbest = beam_search(*model, src, src_mask, BeamSearchOptions(/*start_symbol=*/1, /*end_symbol=*/2));
///   const auto& best = nbest[0].front().tokens;
std::vector<std::vector<Hypothesis>> beam_search(models::EncoderDecoderImpl& model, const torch::Tensor& src,
                                                 const torch::Tensor& src_mask, const BeamSearchOptions& options);

}  // namespace torchzoo::train
