#include "torchzoo/train/decode/greedy_decode.h"

#include "torchzoo/common/check.h"
#include "torchzoo/train/decode/next_token_scorer.h"

namespace torchzoo::train {

torch::Tensor greedy_decode(models::EncoderDecoderImpl& model, const torch::Tensor& src, const torch::Tensor& src_mask,
                            const GreedyDecodeOptions& options) {
  TORCHZOO_CHECK(options.max_len() >= 1, "greedy_decode: max_len must be >= 1, got {}", options.max_len());
  TORCHZOO_CHECK(src.dim() == 2, "greedy_decode: expected src of shape [B, T_src], got {}",
                 detail::shape_str(src.sizes()));
  torch::NoGradGuard no_grad;
  const auto batch = src.size(0);
  NextTokenScorer scorer(model, model.encode(src, src_mask), src_mask, options.use_cache());
  auto ys = torch::full({batch, 1}, options.start_symbol(), src.options());  // [B, 1]
  auto finished = torch::zeros({batch}, src.options().dtype(torch::kBool));  // [B]
  for (int64_t i = 1; i < options.max_len(); ++i) {
    auto log_probs = scorer.next(ys.narrow(1, i - 1, 1));  // [B, vocab], given ys[:, :i]
    auto next = std::get<1>(log_probs.max(-1));            // [B]
    next = next.masked_fill(finished, options.pad());
    ys = torch::cat({ys, next.unsqueeze(1)}, 1);  // [B, i + 1]
    if (options.end_symbol() >= 0) {
      finished = finished | next.eq(options.end_symbol());
      if (finished.all().item<bool>()) {
        break;
      }
    }
  }
  return ys;
}

}  // namespace torchzoo::train
