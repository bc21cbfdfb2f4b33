#include "torchzoo/data/seq2seq_batch.h"

#include "torchzoo/data/masks.h"
#include "torchzoo/common/check.h"

namespace torchzoo::data {

Seq2SeqBatch Seq2SeqBatch::make(const torch::Tensor& src, const torch::Tensor& full_tgt, int64_t pad) {
  TORCHZOO_CHECK(src.dim() == 2 && full_tgt.dim() == 2 && src.size(0) == full_tgt.size(0) && full_tgt.size(1) >= 2,
                 "Seq2SeqBatch: expected src [B, T_src] and tgt [B, T_tgt >= 2] with the same B, got {} and {}",
                 detail::shape_str(src.sizes()), detail::shape_str(full_tgt.sizes()));
  using torch::indexing::None;
  using torch::indexing::Slice;
  Seq2SeqBatch batch;
  batch.src = src;
  batch.src_mask = padding_mask(src, pad);                         // [B, 1, T_src]
  batch.tgt = full_tgt.index({Slice(), Slice(None, -1)});          // [B, T_tgt - 1]
  batch.tgt_y = full_tgt.index({Slice(), Slice(1, None)});         // [B, T_tgt - 1]
  batch.tgt_mask = causal_padding_mask(batch.tgt, pad);            // [B, T_tgt - 1, T_tgt - 1]
  batch.ntokens = batch.tgt_y.ne(pad).sum().item<int64_t>();
  return batch;
}

Seq2SeqBatch Seq2SeqBatch::to(torch::Device device) const {
  Seq2SeqBatch moved = *this;
  for (auto* t : {&moved.src, &moved.src_mask, &moved.tgt, &moved.tgt_y, &moved.tgt_mask}) {
    // Asynchronous only towards CUDA: a non-blocking copy back to the CPU may not have landed when read.
    *t = t->to(device, /*non_blocking=*/device.is_cuda());
  }
  return moved;
}

}  // namespace torchzoo::data
