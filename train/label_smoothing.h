#pragma once
// Label-smoothed loss in the KL-divergence form of the annotated Transformer
// (`LabelSmoothing`, Szegedy et al. 2016): the target distribution puts
// 1 - smoothing on the true class and smoothing / (size - 2) on every class
// but the true one and padding; padding rows contribute nothing. Returns the
// summed KL divergence (divide by the token count to get a per-token loss).
// Shapes: x log-probabilities [N, size], target int64 [N] -> scalar.
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::train {

/// Options of LabelSmoothing: the classes, the padding class and the smoothing.
struct LabelSmoothingOptions {
  LabelSmoothingOptions(int64_t size, int64_t padding_idx) : size_(size), padding_idx_(padding_idx) {}
  /// Number of classes (the target vocabulary).
  TORCH_ARG(int64_t, size);
  /// Padding class: never predicted, and its target rows are ignored.
  TORCH_ARG(int64_t, padding_idx);
  /// Probability mass moved off the true class (0 = plain negative log-likelihood).
  TORCH_ARG(double, smoothing) = 0.0;
};

/// Label-smoothed loss in the annotated Transformer's KL-divergence form (Szegedy et al. 2016), summed
/// over the rows; used through the module holder LabelSmoothing.
///
/// Example:
///   LabelSmoothing criterion(LabelSmoothingOptions(/*size=*/11, /*padding_idx=*/0).smoothing(0.1));
///   auto loss = criterion(log_probs.view({-1, 11}), tgt_y.view(-1)) / ntokens;
class LabelSmoothingImpl : public torch::nn::Cloneable<LabelSmoothingImpl> {
 public:
  explicit LabelSmoothingImpl(LabelSmoothingOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& target);
  /// The target distribution [N, size] for `target` (the reference keeps it as `true_dist`).
  torch::Tensor target_distribution(const torch::Tensor& target, const torch::TensorOptions& options) const;

  LabelSmoothingOptions options;
};
TORCH_MODULE(LabelSmoothing);

}  // namespace torchzoo::train
