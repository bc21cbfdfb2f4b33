#pragma once
// What incremental decoding keeps between steps (Decoder::step,
// EncoderDecoder::decode_step): for every decoder layer the projected keys
// and values of its self-attention over the target positions decoded so far,
// which grow by one position per step, and those of its attention over the
// encoder memory, projected once when the state is made (Decoder::init_state).
// A step then costs one position instead of re-running the whole prefix, as in
// fairseq's incremental_state and Marian's decoder state.
//
// Shapes (B rows: sentences, or sentences x beams in beam search):
//   layers[i].self_attn.key/value [B, h, T, d_k]      T = length(), target positions so far
//   layers[i].src_attn.key/value  [B, h, T_src, d_k]
//   src_mask bool [B, 1, T_src] (true = may attend)
#include <vector>

#include <torch/types.h>

#include "torchzoo/layers/multi_headed_attention.h"

namespace torchzoo::layers {

/// One decoder layer's cached projections.
struct DecoderLayerState {
  /// Self-attention keys and values of the positions decoded so far (undefined before the first step).
  KeyValue self_attn;
  /// Keys and values of the encoder memory for src_attn.
  KeyValue src_attn;
};

/// What incremental decoding keeps between steps: every decoder layer's cached projections and the
/// source mask (made by Decoder::init_state or EncoderDecoder::init_decoder_state).
///
/// Example (greedy decoding, one position per step):
///   auto state = model->init_decoder_state(memory, src_mask);
///   for (...) {
///     auto out = model->decode_step(last_tokens, state);    // [B, 1, d_model]
///     ...
///     state.reorder(rows);                                  // beam search: follow each beam's origin
///   }
struct DecoderState {
  /// One entry per decoder layer.
  std::vector<DecoderLayerState> layers;
  /// The source mask every step attends with.
  torch::Tensor src_mask;
  /// Whether some row's source is padded (src_mask not all true). Without padding, steps attend
  /// over the memory with no mask at all, which takes attention's cheaper unmasked path.
  bool src_padded = true;

  /// What the steps pass to src_attn: src_mask, or undefined where no row is padded.
  torch::Tensor attention_mask() const { return src_padded ? src_mask : torch::Tensor(); }

  /// Target positions decoded so far (the position the next step encodes).
  int64_t length() const { return layers.empty() ? 0 : layers.front().self_attn.length(); }
  /// Rows B.
  int64_t batch_size() const { return src_mask.size(0); }
  /// Keeps rows `rows` [B'] (int64, on the state's device) in that order, everywhere: beam search
  /// follows each new beam's origin with it, expands B sentences to B x beam rows, and drops
  /// finished sentences. Rows may repeat.
  /// `same_sources`: every new row i takes a row with the same source as row i had (B' == B, as when
  /// beams are reordered within their sentences), so the memory's keys, values and mask stay.
  void reorder(const torch::Tensor& rows, bool same_sources = false);
};

}  // namespace torchzoo::layers
