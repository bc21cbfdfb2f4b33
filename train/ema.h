#pragma once
// An exponential moving average of a model's weights (Polyak averaging), as
// timm's ModelEmaV3: after each optimizer step every floating-point parameter
// and buffer moves towards the model's, ema = decay * ema + (1 - decay) * w;
// other tensors are copied. With warm-up the decay starts at 0 and rises,
// decay(n) = min(decay, 1 - (1 + n)^-power) for the n-th update after the
// first, so that the average is not dominated by the random initial weights.
//
// Example:
//   ModelEma ema(*model, ModelEmaOptions(0.999));
//   ...after each optimizer step:  ema.update(*model);
//   ema.swap(*model); evaluate(); ema.swap(*model);  // evaluate the averaged weights
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/serialize/archive.h>

namespace torchzoo::train {

/// Options of ModelEma: the decay and timm's warm-up of it.
struct ModelEmaOptions {
  explicit ModelEmaOptions(double decay) : decay_(decay) {}
  /// The decay the warm-up rises to (timm's default 0.9998; 0.999 suits short runs).
  TORCH_ARG(double, decay);
  /// timm's use_warmup: the decay follows 1 - (1 + n / gamma)^-power up to `decay`.
  TORCH_ARG(bool, warmup) = true;
  /// timm's warmup_power: 2/3 reaches 0.999 after ~31k updates, 3/4 after ~10k.
  TORCH_ARG(double, warmup_power) = 2.0 / 3.0;
  /// timm's warmup_gamma.
  TORCH_ARG(double, warmup_gamma) = 1.0;
};

/// An exponential moving average of a model's weights (timm's ModelEmaV3): after each optimizer step
/// ema = decay * ema + (1 - decay) * w, with the decay warming up.
///
/// Example:
///   ModelEma ema(*model, ModelEmaOptions(0.999));
///   ema.update(*model);                              // after each optimizer step
///   ema.swap(*model); evaluate(); ema.swap(*model);  // evaluate the averaged weights
class ModelEma {
 public:
  /// Starts as a copy of `model`'s current weights.
  ModelEma(const torch::nn::Module& model, ModelEmaOptions options);

  /// The decay of the next update (timm's get_decay for update number updates() + 1).
  double next_decay() const;
  /// Moves the average towards `model`'s weights (same model as the constructor's).
  void update(const torch::nn::Module& model);
  /// Exchanges the model's weights with the average; calling it again restores both.
  void swap(torch::nn::Module& model);
  /// Updates so far.
  int64_t updates() const { return updates_; }
  const ModelEmaOptions& options() const { return options_; }

  /// The averaged tensors and the update count, for checkpoints.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  ModelEmaOptions options_;
  std::vector<torch::Tensor> average_;  ///< state_tensors(model) order
  int64_t updates_ = 0;
};

}  // namespace torchzoo::train
