#include "torchzoo/train/ema.h"

#include <cmath>

#include "torchzoo/common/check.h"
#include "torchzoo/train/checkpoint_average.h"

namespace torchzoo::train {
namespace {

void check_fits(const std::vector<torch::Tensor>& average, const std::vector<torch::Tensor>& model) {
  TORCHZOO_CHECK(average.size() == model.size(), "ModelEma: the average has {} tensors, the model {}",
                 average.size(), model.size());
  for (size_t i = 0; i < average.size(); ++i) {
    TORCHZOO_CHECK(average[i].sizes() == model[i].sizes(), "ModelEma: tensor {} has shape {} in the average, {} in "
                   "the model", i, detail::shape_str(average[i].sizes()), detail::shape_str(model[i].sizes()));
  }
}

}  // namespace

ModelEma::ModelEma(const torch::nn::Module& model, ModelEmaOptions options) : options_(std::move(options)) {
  TORCHZOO_CHECK(options_.decay() > 0.0 && options_.decay() < 1.0, "ModelEma: decay must be in (0, 1), got {}",
                 options_.decay());
  TORCHZOO_CHECK(options_.warmup_power() > 0.0 && options_.warmup_gamma() > 0.0,
                 "ModelEma: warmup_power and warmup_gamma must be positive, got {} and {}", options_.warmup_power(),
                 options_.warmup_gamma());
  for (const auto& tensor : state_tensors(model)) average_.push_back(tensor.detach().clone());
}

double ModelEma::next_decay() const {
  // timm counts the step of the update being made; its first update copies the weights.
  const auto n = static_cast<double>(updates_);
  if (n <= 0) return 0.0;
  if (!options_.warmup()) return options_.decay();
  const double warm = 1.0 - std::pow(1.0 + n / options_.warmup_gamma(), -options_.warmup_power());
  return std::clamp(warm, 0.0, options_.decay());
}

void ModelEma::update(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  const auto tensors = state_tensors(model);
  check_fits(average_, tensors);
  const double weight = 1.0 - next_decay();
  std::vector<torch::Tensor> floats, float_targets;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (average_[i].is_floating_point()) {
      floats.push_back(average_[i]);
      float_targets.push_back(tensors[i].detach());
    } else {
      average_[i].copy_(tensors[i]);
    }
  }
  if (!floats.empty()) torch::_foreach_lerp_(floats, float_targets, weight);
  ++updates_;
}

void ModelEma::swap(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  auto tensors = state_tensors(model);
  check_fits(average_, tensors);
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto kept = tensors[i].detach().clone();
    tensors[i].copy_(average_[i]);
    average_[i].copy_(kept);
  }
}

void ModelEma::save(torch::serialize::OutputArchive& archive) const {
  archive.write("updates", c10::IValue(updates_));
  for (size_t i = 0; i < average_.size(); ++i) archive.write(fmt::format("tensor_{}", i), average_[i]);
}

void ModelEma::load(torch::serialize::InputArchive& archive) {
  c10::IValue updates;
  archive.read("updates", updates);
  for (size_t i = 0; i < average_.size(); ++i) {
    torch::Tensor tensor;
    TORCHZOO_CHECK(archive.try_read(fmt::format("tensor_{}", i), tensor),
                   "ModelEma: the saved average has fewer tensors than the model's {}", average_.size());
    TORCHZOO_CHECK(tensor.sizes() == average_[i].sizes(), "ModelEma: saved tensor {} has shape {}, the model's {}", i,
                   detail::shape_str(tensor.sizes()), detail::shape_str(average_[i].sizes()));
    average_[i].copy_(tensor);
  }
  updates_ = updates.toInt();
}

}  // namespace torchzoo::train
