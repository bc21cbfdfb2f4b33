#include "torchzoo/train/decode/next_token_scorer.h"

#include "torchzoo/data/masks.h"
#include "torchzoo/common/check.h"

namespace torchzoo::train {

NextTokenScorer::NextTokenScorer(models::EncoderDecoderImpl& model, const torch::Tensor& memory,
                                 const torch::Tensor& src_mask, bool use_cache)
    : model_(model), use_cache_(use_cache) {
  if (use_cache_) {
    state_ = model_.init_decoder_state(memory, src_mask);
  } else {
    memory_ = memory;
    src_mask_ = src_mask;
  }
}

torch::Tensor NextTokenScorer::next(const torch::Tensor& tokens) {
  return model_.generator(decode_next(tokens));  // [B, vocab]
}

torch::Tensor NextTokenScorer::next_logits(const torch::Tensor& tokens) {
  return model_.generator->logits(decode_next(tokens));  // [B, vocab]
}

torch::Tensor NextTokenScorer::decode_next(const torch::Tensor& tokens) {
  ++length_;
  torch::Tensor out;
  if (use_cache_) {
    out = model_.decode_step(tokens, state_);  // [B, 1, d_model]
  } else {
    prefixes_ = prefixes_.defined() ? torch::cat({prefixes_, tokens}, 1) : tokens;  // [B, length]
    out = model_.decode(memory_, src_mask_, prefixes_, data::subsequent_mask(length_, tokens.device()));
    out = out.narrow(1, length_ - 1, 1);  // [B, 1, d_model], the last position
  }
  return out.squeeze(1);  // [B, d_model]
}

void NextTokenScorer::select_rows(const torch::Tensor& rows, bool same_sources) {
  if (use_cache_) {
    state_.reorder(rows, same_sources);
    return;
  }
  if (!same_sources) {
    memory_ = memory_.index_select(0, rows);      // [B', T_src, d_model]
    src_mask_ = src_mask_.index_select(0, rows);  // [B', 1, T_src]
  }
  if (prefixes_.defined()) {
    prefixes_ = prefixes_.index_select(0, rows);  // [B', length]
  }
}

}  // namespace torchzoo::train
