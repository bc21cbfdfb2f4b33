#include "torchzoo/layers/decoder_state.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

void DecoderState::reorder(const torch::Tensor& rows, bool same_sources) {
  TORCHZOO_CHECK(rows.dim() == 1 && rows.scalar_type() == torch::kLong,
                 "DecoderState: expected rows as a 1-d int64 tensor, got {} of type {}",
                 detail::shape_str(rows.sizes()), c10::toString(rows.scalar_type()));
  TORCHZOO_CHECK(!same_sources || rows.size(0) == batch_size(),
                 "DecoderState: reordering with the same sources keeps the {} rows, got {}", batch_size(),
                 rows.size(0));
  for (auto& layer : layers) {
    layer.self_attn = layer.self_attn.index_select(rows);  // [B', h, T, d_k]
    if (!same_sources) layer.src_attn = layer.src_attn.index_select(rows);  // [B', h, T_src, d_k]
  }
  if (!same_sources) src_mask = src_mask.index_select(0, rows);  // [B', 1, T_src]
}

}  // namespace torchzoo::layers
