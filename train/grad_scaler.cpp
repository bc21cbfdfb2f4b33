#include "torchzoo/train/grad_scaler.h"

#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>
#include <ATen/ops/_amp_update_scale.h>

#include "torchzoo/common/check.h"

namespace torchzoo::train {

GradScaler::GradScaler(GradScalerOptions options, torch::Device device)
    : options_(std::move(options)), device_(device) {
  TORCHZOO_CHECK(options_.init_scale() > 0, "GradScaler: init_scale must be positive, got {}", options_.init_scale());
  TORCHZOO_CHECK(options_.growth_factor() > 1.0, "GradScaler: growth_factor must be > 1, got {}",
                 options_.growth_factor());
  TORCHZOO_CHECK(options_.backoff_factor() > 0.0 && options_.backoff_factor() < 1.0,
                 "GradScaler: backoff_factor must be in (0, 1), got {}", options_.backoff_factor());
  TORCHZOO_CHECK(options_.growth_interval() > 0, "GradScaler: growth_interval must be positive, got {}",
                 options_.growth_interval());
  const auto on_device = torch::TensorOptions().device(device_);
  scale_ = torch::full({1}, options_.init_scale(), on_device.dtype(torch::kFloat32));
  growth_tracker_ = torch::zeros({1}, on_device.dtype(torch::kInt32));
  found_inf_ = torch::zeros({1}, on_device.dtype(torch::kFloat32));
}

torch::Tensor GradScaler::scale(const torch::Tensor& loss) {
  if (!enabled()) return loss;
  return loss * scale_.to(loss.device(), /*non_blocking=*/true);
}

void GradScaler::unscale_(torch::optim::Optimizer& optimizer) {
  if (!enabled()) return;
  TORCHZOO_CHECK(!unscaled_, "GradScaler: unscale_() was already called since the last update()");
  // As GradScaler.unscale_: the reciprocal in double, then float.
  const auto inv_scale = scale_.to(torch::kFloat64).reciprocal().to(torch::kFloat32);
  found_inf_.zero_();
  std::vector<torch::Tensor> grads;
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& parameter : group.params()) {
      if (!parameter.grad().defined()) continue;
      TORCHZOO_CHECK(parameter.grad().scalar_type() != torch::kHalf,
                     "GradScaler: fp16 gradients cannot be unscaled (keep the parameters in fp32; autocast "
                     "casts them per op)");
      TORCHZOO_CHECK(parameter.grad().device() == device_, "GradScaler: a gradient is on {}, the scaler on {}",
                     parameter.grad().device().str(), device_.str());
      grads.push_back(parameter.grad());
    }
  }
  if (!grads.empty()) at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, inv_scale);
  unscaled_ = true;
}

bool GradScaler::step(torch::optim::Optimizer& optimizer) {
  if (!enabled()) {
    optimizer.step();
    return true;
  }
  if (!unscaled_) unscale_(optimizer);
  if (found_inf_.item<float>() != 0.0f) return false;
  optimizer.step();
  return true;
}

void GradScaler::update() {
  if (!enabled()) return;
  TORCHZOO_CHECK(unscaled_, "GradScaler: update() without unscale_() or step() since the last update()");
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, options_.growth_factor(), options_.backoff_factor(),
                         options_.growth_interval());
  unscaled_ = false;
}

double GradScaler::get_scale() const { return enabled() ? scale_.item<double>() : 1.0; }

int64_t GradScaler::growth_tracker() const { return growth_tracker_.item<int64_t>(); }

void GradScaler::save(torch::serialize::OutputArchive& archive) const {
  archive.write("scale", scale_.to(torch::kCPU));
  archive.write("growth_tracker", growth_tracker_.to(torch::kCPU));
}

void GradScaler::load(torch::serialize::InputArchive& archive) {
  torch::Tensor scale, tracker;
  archive.read("scale", scale);
  archive.read("growth_tracker", tracker);
  TORCHZOO_CHECK(scale.numel() == 1 && tracker.numel() == 1,
                 "GradScaler: expected a 1-element scale and growth_tracker, got {} and {} elements", scale.numel(),
                 tracker.numel());
  scale_.copy_(scale.to(torch::kFloat32).view({1}));
  growth_tracker_.copy_(tracker.to(torch::kInt32).view({1}));
}

}  // namespace torchzoo::train
