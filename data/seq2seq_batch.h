#pragma once
// A batch for sequence-to-sequence training (annotated Transformer `Batch`):
// the target is split into the decoder input (all but the last token) and the
// prediction target tgt_y (all but the first), with the masks the model needs.
// Shapes: src [B, T_src], src_mask bool [B, 1, T_src],
//         tgt and tgt_y [B, T_tgt - 1], tgt_mask bool [B, T_tgt - 1, T_tgt - 1].
#include <torch/types.h>

namespace torchzoo::data {

/// A sequence-to-sequence training batch (annotated Transformer `Batch`): the target split into the
/// decoder input tgt and the prediction target tgt_y, with the masks the model needs.
struct Seq2SeqBatch {
  /// Source tokens [B, T_src], int64.
  torch::Tensor src;
  /// bool [B, 1, T_src], true at tokens that are not padding.
  torch::Tensor src_mask;
  /// Decoder input [B, T_tgt - 1]: the target without its last token.
  torch::Tensor tgt;
  /// Prediction target [B, T_tgt - 1]: the target without its first token.
  torch::Tensor tgt_y;
  /// bool [B, T_tgt - 1, T_tgt - 1]: padding and subsequent positions masked (true = may attend).
  torch::Tensor tgt_mask;
  int64_t ntokens = 0;  ///< target tokens that are not padding

  /// Builds the batch from full source and target token rows ([B, T], padded with `pad`).
  static Seq2SeqBatch make(const torch::Tensor& src, const torch::Tensor& full_tgt, int64_t pad);
  /// The same batch on another device.
  Seq2SeqBatch to(torch::Device device) const;
  /// Rows B.
  int64_t size() const { return src.size(0); }
};

}  // namespace torchzoo::data
