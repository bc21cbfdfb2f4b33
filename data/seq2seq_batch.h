#pragma once
// A batch for sequence-to-sequence training (annotated Transformer `Batch`):
// the target is split into the decoder input (all but the last token) and the
// prediction target tgt_y (all but the first), with the masks the model needs.
// Shapes: src [B, T_src], src_mask bool [B, 1, T_src],
//         tgt and tgt_y [B, T_tgt - 1], tgt_mask bool [B, T_tgt - 1, T_tgt - 1].
#include <torch/types.h>

namespace torchzoo::data {

struct Seq2SeqBatch {
  torch::Tensor src;
  torch::Tensor src_mask;
  torch::Tensor tgt;
  torch::Tensor tgt_y;
  torch::Tensor tgt_mask;
  int64_t ntokens = 0;  ///< target tokens that are not padding

  /// Builds the batch from full source and target token rows ([B, T], padded with `pad`).
  static Seq2SeqBatch make(const torch::Tensor& src, const torch::Tensor& full_tgt, int64_t pad);
  /// The same batch on another device.
  Seq2SeqBatch to(torch::Device device) const;
  int64_t size() const { return src.size(0); }
};

}  // namespace torchzoo::data
