#pragma once
// The decoder side of greedy decoding and beam search: log-probabilities of
// every row's next target token, one target position per call. Two ways, with
// the same results (up to float rounding):
//   cached (use_cache): EncoderDecoder::decode_step with the key/value cache
//     (layers/decoder_state.h), one position's work per call;
//   uncached: the reference's way, re-running the decoder on the whole prefix
//     under a subsequent mask and keeping the last position (kept as the
//     reference behaviour and for benchmarks).
//
// Shapes: memory [B, T_src, d_model], src_mask bool [B, 1, T_src];
//         tokens [B, 1] (the tokens of the last position) -> log-probs [B, tgt_vocab].
#include <torch/types.h>

#include "torchzoo/layers/decoder_state.h"
#include "torchzoo/models/encoder_decoder.h"

namespace torchzoo::train {

/// The decoder side of greedy decoding and beam search: log-probabilities of every row's next target
/// token, one target position per call, with the key/value cache or re-running the prefix.
///
/// Example:
///   NextTokenScorer scorer(*model, model->encode(src, src_mask), src_mask, /*use_cache=*/true);
///   auto log_probs = scorer.next(start_tokens);   // [B, vocab], first target position
///   scorer.select_rows(rows);                     // beam search: follow the beams' origins
class NextTokenScorer {
 public:
  NextTokenScorer(models::EncoderDecoderImpl& model, const torch::Tensor& memory, const torch::Tensor& src_mask,
                  bool use_cache);

  /// Appends `tokens` [B, 1] to every row's prefix and returns the log-probabilities of the token
  /// that follows [B, vocab].
  torch::Tensor next(const torch::Tensor& tokens);
  /// As next, the generator's logits [B, vocab] before log_softmax (their argmax is the same).
  torch::Tensor next_logits(const torch::Tensor& tokens);

  /// Keeps rows `rows` [B'] (int64, on the model's device) in that order: prefixes, caches, memory
  /// and masks follow. Rows may repeat (expanding sentences to beams).
  /// `same_sources`: each new row i comes from a row with the same source sentence as row i had
  /// (beams reordered within their sentences), so the encoder side stays as it is.
  void select_rows(const torch::Tensor& rows, bool same_sources = false);

  /// Target positions consumed so far.
  int64_t length() const { return length_; }

 private:
  /// The decoder's output for the new position [B, d_model].
  torch::Tensor decode_next(const torch::Tensor& tokens);

  models::EncoderDecoderImpl& model_;
  bool use_cache_;
  int64_t length_ = 0;
  layers::DecoderState state_;  ///< cached path
  torch::Tensor memory_;        ///< uncached path: [B, T_src, d_model]
  torch::Tensor src_mask_;      ///< uncached path: [B, 1, T_src]
  torch::Tensor prefixes_;      ///< uncached path: [B, length]
};

}  // namespace torchzoo::train
