#include "torchzoo/train/label_smoothing.h"

#include "torchzoo/common/check.h"

namespace torchzoo::train {

LabelSmoothingImpl::LabelSmoothingImpl(LabelSmoothingOptions options) : options(std::move(options)) { reset(); }

void LabelSmoothingImpl::reset() {
  TORCHZOO_CHECK(options.size() > 2, "LabelSmoothing: size must be > 2, got {}", options.size());
  TORCHZOO_CHECK(options.padding_idx() >= 0 && options.padding_idx() < options.size(),
                 "LabelSmoothing: padding_idx must lie in [0, {}), got {}", options.size(), options.padding_idx());
  TORCHZOO_CHECK(options.smoothing() >= 0 && options.smoothing() < 1,
                 "LabelSmoothing: smoothing must be in [0, 1), got {}", options.smoothing());
}

void LabelSmoothingImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::train::LabelSmoothing(size={}, padding_idx={}, smoothing={})", options.size(),
                        options.padding_idx(), options.smoothing());
}

torch::Tensor LabelSmoothingImpl::target_distribution(const torch::Tensor& target,
                                                      const torch::TensorOptions& tensor_options) const {
  const double confidence = 1.0 - options.smoothing();
  auto true_dist = torch::full({target.size(0), options.size()}, options.smoothing() / (options.size() - 2),
                               tensor_options);                                   // [N, size]
  true_dist.scatter_(1, target.unsqueeze(1), confidence);
  true_dist.select(1, options.padding_idx()).fill_(0.0);
  return true_dist.masked_fill(target.eq(options.padding_idx()).unsqueeze(1), 0.0);
}

torch::Tensor LabelSmoothingImpl::forward(const torch::Tensor& x, const torch::Tensor& target) {
  TORCHZOO_CHECK(x.dim() == 2 && x.size(1) == options.size(),
                 "LabelSmoothing: expected log-probabilities of shape [N, {}], got {}", options.size(),
                 detail::shape_str(x.sizes()));
  TORCHZOO_CHECK(target.dim() == 1 && target.size(0) == x.size(0),
                 "LabelSmoothing: expected target of shape [{}], got {}", x.size(0),
                 detail::shape_str(target.sizes()));
  torch::Tensor true_dist;
  {
    torch::NoGradGuard no_grad;
    true_dist = target_distribution(target, x.options());
  }
  // KL(true_dist || exp(x)) summed; terms with true_dist = 0 contribute 0 (xlogy convention).
  return torch::kl_div(x, true_dist, at::Reduction::Sum);
}

}  // namespace torchzoo::train
