#pragma once
// Batched greedy decoding for an EncoderDecoder. The reference decodes one
// sentence at a time; here every row advances together, rows that emitted the
// end symbol are padded, and decoding stops when all rows have ended. Ended
// rows leave the batch (with their cached keys and values) once they are a
// quarter of it, so a batch's long tail does not pay for finished sentences.
// Rows do not interact, so each row's tokens equal the one-at-a-time result.
// The steps run under InferenceMode and pick the argmax of the logits, or
// draw from them (sampling: temperature, top-k, top-p; train/decode/sampling.h).
// With use_cache (the default) each step decodes only the new position, with
// the decoder's key/value cache (train/decode/next_token_scorer.h); without it every
// step re-runs the decoder on the whole prefix, as the reference does. Both
// give the same tokens.
// Shapes: src [B, T_src], src_mask bool [B, 1, T_src] -> tokens [B, <= max_len],
//         column 0 holding the start symbol (as the reference's output).
#include <optional>

#include <torch/arg.h>
#include <torch/types.h>

#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/decode/sampling.h"

namespace torchzoo::train {

/// Options of greedy decoding: the output length, the start, end and padding symbols, the cache.
struct GreedyDecodeOptions {
  GreedyDecodeOptions(int64_t max_len, int64_t start_symbol) : max_len_(max_len), start_symbol_(start_symbol) {}
  /// Output length, start symbol included.
  TORCH_ARG(int64_t, max_len);
  /// First token of every output row.
  TORCH_ARG(int64_t, start_symbol);
  /// End-of-sequence token, or -1 for none (decode max_len tokens, as the reference).
  TORCH_ARG(int64_t, end_symbol) = -1;
  /// Written after a row's end symbol.
  TORCH_ARG(int64_t, pad) = 0;
  /// Incremental decoding with cached keys and values; false re-runs the decoder on the prefix each step.
  TORCH_ARG(bool, use_cache) = true;
  /// Draw each next token (train/decode/sampling.h) instead of taking the most probable one.
  TORCH_ARG(std::optional<SamplingOptions>, sampling) = std::nullopt;
  /// The seed of those draws (a CPU generator of its own: the same seed and batch, the same tokens).
  TORCH_ARG(uint64_t, seed) = 0;
};

/// Example:
///   auto tokens = greedy_decode(*model, src, src_mask, GreedyDecodeOptions(/*max_len=*/10, /*start_symbol=*/1));
torch::Tensor greedy_decode(models::EncoderDecoderImpl& model, const torch::Tensor& src, const torch::Tensor& src_mask,
                            const GreedyDecodeOptions& options);

}  // namespace torchzoo::train
