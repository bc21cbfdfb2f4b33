#pragma once
// Dynamic loss scaling for fp16 training, with torch.amp.GradScaler's
// semantics: the loss is multiplied by a scale before backward, so that small
// gradients survive fp16; before the optimizer step the gradients are divided
// by it again and checked; a step with an inf or NaN gradient is skipped and
// the scale backs off, and after `growth_interval` good steps in a row it
// grows. The checks and the update are ATen's own kernels
// (_amp_foreach_non_finite_check_and_unscale_, _amp_update_scale_), so the
// scale sequence is Python's.
//
// Example (one optimizer step; clipping sees the true gradients):
//   GradScaler scaler(GradScalerOptions(), device);
//   scaler.scale(loss).backward();
//   scaler.unscale_(optimizer);
//   clip_gradients(...);
//   const bool stepped = scaler.step(optimizer);  // false: skipped, gradients were not finite
//   scaler.update();
#include <torch/arg.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

namespace torchzoo::train {

/// Options of GradScaler; the defaults are torch.amp.GradScaler's.
struct GradScalerOptions {
  /// Off: scale() and unscale_() do nothing, step() always steps.
  TORCH_ARG(bool, enabled) = true;
  /// The first scale, 2^16 as torch.amp.GradScaler.
  TORCH_ARG(double, init_scale) = 65536.0;
  /// Multiplies the scale after growth_interval steps in a row without inf/NaN.
  TORCH_ARG(double, growth_factor) = 2.0;
  /// Multiplies the scale after a step with inf/NaN gradients.
  TORCH_ARG(double, backoff_factor) = 0.5;
  /// Steps in a row without inf/NaN after which the scale grows.
  TORCH_ARG(int64_t, growth_interval) = 2000;
};

/// Dynamic loss scaling for fp16 training with the semantics of torch.amp.GradScaler: steps whose
/// gradients hold an inf or NaN are skipped and the scale backs off, and it grows after
/// growth_interval good steps.
///
/// Example (one optimizer step; clipping sees the true gradients):
///   GradScaler scaler(GradScalerOptions(), device);
///   scaler.scale(loss).backward();
///   scaler.unscale_(optimizer);
///   clip_gradients(...);
///   const bool stepped = scaler.step(optimizer);  // false: skipped, gradients were not finite
///   scaler.update();
class GradScaler {
 public:
  explicit GradScaler(GradScalerOptions options = {}, torch::Device device = torch::kCPU);

  /// loss * scale (the loss itself when disabled).
  torch::Tensor scale(const torch::Tensor& loss);
  /// Divides the gradients of `optimizer`'s parameters by the scale in place and records whether
  /// any is inf or NaN. Once per step, before clipping; step() calls it if it was not called.
  void unscale_(torch::optim::Optimizer& optimizer);
  /// Steps `optimizer` unless the unscaled gradients held an inf or NaN. Returns whether it stepped
  /// (this reads one flag from the device, as Python's GradScaler.step does).
  bool step(torch::optim::Optimizer& optimizer);
  /// Backs off or grows the scale from this step's finding; call once per step, after step().
  void update();

  /// The current scale (a host read).
  double get_scale() const;
  /// Good steps since the last back-off or growth (a host read).
  int64_t growth_tracker() const;
  /// The scale as a 1-element float tensor on the device (no host read).
  const torch::Tensor& scale_tensor() const { return scale_; }
  const GradScalerOptions& options() const { return options_; }
  bool enabled() const { return options_.enabled(); }

  /// Scale and growth tracker, for checkpoints (as GradScaler.state_dict).
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  GradScalerOptions options_;
  torch::Device device_;
  torch::Tensor scale_;           ///< float [1]
  torch::Tensor growth_tracker_;  ///< int32 [1]
  torch::Tensor found_inf_;       ///< float [1]: this step's finding (1: inf/NaN seen)
  bool unscaled_ = false;
};

}  // namespace torchzoo::train
