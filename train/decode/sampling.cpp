#include "torchzoo/train/decode/sampling.h"

#include <limits>

#include "torchzoo/common/check.h"

namespace torchzoo::train {

namespace {

void check_options(const SamplingOptions& o) {
  TORCHZOO_CHECK(o.temperature() >= 0, "sampling: temperature must be >= 0, got {}", o.temperature());
  TORCHZOO_CHECK(o.top_k() >= 0, "sampling: top_k must be >= 0, got {}", o.top_k());
  TORCHZOO_CHECK(o.top_p() > 0 && o.top_p() <= 1, "sampling: top_p must be in (0, 1], got {}", o.top_p());
}

}  // namespace

torch::Tensor filter_scores(const torch::Tensor& scores, const SamplingOptions& options) {
  check_options(options);
  TORCHZOO_CHECK(options.temperature() > 0, "filter_scores: temperature must be > 0, got {}", options.temperature());
  TORCHZOO_CHECK(scores.dim() == 2, "filter_scores: expected scores of shape [B, V], got {}",
                 detail::shape_str(scores.sizes()));
  const auto vocab = scores.size(1);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  auto x = scores.to(torch::kFloat) / options.temperature();  // [B, V]
  if (options.top_k() > 0 && options.top_k() < vocab) {
    auto kth = std::get<0>(x.topk(options.top_k(), 1)).select(1, options.top_k() - 1).unsqueeze(1);  // [B, 1]
    x = x.masked_fill(x < kth, neg_inf);
  }
  if (options.top_p() < 1.0) {
    auto [sorted, order] = x.sort(1, /*descending=*/true);  // [B, V]
    auto probs = sorted.softmax(1);
    // A token is left out when the more probable ones already reach top_p (the first never is).
    auto outside = (probs.cumsum(1) - probs) >= options.top_p();  // [B, V], in sorted order
    x = x.masked_fill(torch::zeros_like(outside).scatter(1, order, outside), neg_inf);
  }
  return x;
}

torch::Tensor choose_next(const torch::Tensor& scores, const SamplingOptions& options, at::Generator& generator) {
  check_options(options);
  if (options.temperature() == 0) return scores.argmax(1);                   // [B]
  auto probs = filter_scores(scores, options).softmax(1);                    // [B, V]
  return probs.multinomial(1, /*replacement=*/false, generator).squeeze(1);  // [B]
}

}  // namespace torchzoo::train
