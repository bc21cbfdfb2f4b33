#include <torch/nn/options/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <map>

#include "torchzoo/configs/builders.h"
#include "torchzoo/common/format.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/train/fused_adam.h"
#include "torchzoo/train/label_smoothing.h"

namespace torchzoo::configs {
namespace {

std::tuple<double, double> read_betas(const Section& s, const std::tuple<double, double>& defaults) {
  auto betas = s.get<std::vector<double>>("betas", {std::get<0>(defaults), std::get<1>(defaults)});
  if (betas.size() != 2 || betas[0] < 0 || betas[0] >= 1 || betas[1] < 0 || betas[1] >= 1) {
    s.fail("betas", fmt::format("expected two numbers in [0, 1), got [{}]", fmt::join(betas, ", ")));
  }
  return {betas[0], betas[1]};
}

/// Adam's and AdamW's keys, with torch::optim's defaults (AdamW's weight_decay 0.01, Adam's 0).
template <class Options>
Options read_adam_options(const Section& s) {
  const Options d;
  Options o(s.get_positive<double>("lr", d.lr()));
  o.betas(read_betas(s, d.betas()))
      .eps(s.get_positive<double>("eps", d.eps()))
      .weight_decay(s.get_in_range<double>("weight_decay", d.weight_decay(), 0.0, 1.0))
      .amsgrad(s.get<bool>("amsgrad", d.amsgrad()));
  return o;
}

/// Whether parameter `name` of shape `p` matches a `no_decay` entry: "1d" matches every
/// parameter with at most one dimension (biases, norm gains, LayerScale), any other entry
/// the full name or its last component (e.g. pos_embed, cls_token), as timm's
/// param_groups_weight_decay does.
bool excluded_from_decay(const std::string& name, const torch::Tensor& p, const std::vector<std::string>& no_decay) {
  const auto leaf = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
  for (const auto& entry : no_decay) {
    if ((entry == "1d" && p.dim() <= 1) || entry == name || entry == leaf) return true;
  }
  return false;
}

/// The depth of a parameter for layer-wise learning-rate decay, as BEiT's and timm's
/// param_groups_layer_decay count it: 0 for the embeddings (a name with "embed" or cls_token), i + 1
/// for a parameter of layer i ("layers.i.", "layer.i.", "blocks.i."), and `layers` + 1 for what comes
/// after the stack (final norm, pooler, head). -1 while `layers` is still being counted.
int64_t layer_depth(const std::string& name, int64_t layers) {
  for (const char* stack : {"layers.", "layer.", "blocks."}) {
    for (auto at = name.find(stack); at != std::string::npos; at = name.find(stack, at + 1)) {
      if (at > 0 && name[at - 1] != '.') continue;
      const auto start = at + std::string(stack).size();
      const auto end = name.find('.', start);
      if (end == std::string::npos || end == start) continue;
      const auto index = name.substr(start, end - start);
      if (index.find_first_not_of("0123456789") == std::string::npos) return std::stoll(index) + 1;
    }
  }
  if (name.find("embed") != std::string::npos || name.find("cls_token") != std::string::npos) return 0;
  return layers + 1;
}

/// The parameter groups: with `no_decay`, the parameters it names get weight_decay 0; with
/// `layer_decay` d < 1, each depth (layer_depth) gets lr * d^(deepest - depth), so that the head
/// keeps lr and the embeddings learn slowest. One group per (depth, decay) that has parameters.
template <class Options>
std::vector<torch::optim::OptimizerParamGroup> param_groups(const Section& s, const torch::nn::Module& model,
                                                            const Options& options) {
  const auto no_decay = s.get<std::vector<std::string>>("no_decay", {});
  const auto layer_decay = s.get_in_range<double>("layer_decay", 1.0, 1e-6, 1.0);
  // A tied weight is listed under each of its names; the optimizer must update it once.
  const auto named = layers::unique_named_parameters(model);
  int64_t layers = 0;
  for (const auto& [name, parameter] : named) layers = std::max(layers, layer_depth(name, -1));
  std::map<std::pair<int64_t, bool>, std::vector<torch::Tensor>> grouped;  // (depth, excluded from decay)
  for (const auto& [name, parameter] : named) {
    const auto depth = layer_decay < 1.0 ? layer_depth(name, layers) : 0;
    grouped[{depth, excluded_from_decay(name, parameter, no_decay)}].push_back(parameter);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (auto& [key, parameters] : grouped) {
    auto group_options = std::make_unique<Options>(options);
    if (key.second) group_options->weight_decay(0.0);
    group_options->set_lr(options.lr() * std::pow(layer_decay, static_cast<double>(layers + 1 - key.first)));
    groups.emplace_back(std::move(parameters), std::move(group_options));
  }
  return groups;
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> build_adam(const Section& s, const torch::nn::Module& model) {
  auto o = read_adam_options<torch::optim::AdamOptions>(s);
  auto groups = param_groups(s, model, o);
  const bool fused = s.get<bool>("fused", true);
  s.finish();
  if (fused) return std::make_unique<train::FusedAdam>(std::move(groups), o);
  return std::make_unique<torch::optim::Adam>(std::move(groups), o);
}

std::unique_ptr<torch::optim::Optimizer> build_adamw(const Section& s, const torch::nn::Module& model) {
  auto o = read_adam_options<torch::optim::AdamWOptions>(s);
  auto groups = param_groups(s, model, o);
  const bool fused = s.get<bool>("fused", true);
  s.finish();
  if (fused) return std::make_unique<train::FusedAdamW>(std::move(groups), o);
  return std::make_unique<torch::optim::AdamW>(std::move(groups), o);
}

std::unique_ptr<torch::optim::Optimizer> build_sgd(const Section& s, const torch::nn::Module& model) {
  torch::optim::SGDOptions o(s.require<double>("lr"));
  if (o.lr() <= 0) s.fail("lr", fmt::format("must be positive, got {}", o.lr()));
  o.momentum(s.get_in_range<double>("momentum", o.momentum(), 0.0, 1.0))
      .nesterov(s.get<bool>("nesterov", o.nesterov()))
      .weight_decay(s.get_in_range<double>("weight_decay", o.weight_decay(), 0.0, 1.0));
  if (o.nesterov() && o.momentum() == 0) s.fail("nesterov", "needs momentum > 0");
  auto groups = param_groups(s, model, o);
  s.finish();
  return std::make_unique<torch::optim::SGD>(std::move(groups), o);
}

std::shared_ptr<train::LRSchedule> build_noam_schedule(const Section& s, const ScheduleContext& context) {
  // model_size defaults to the built model's width, as the reference passes model.src_embed[0].d_model.
  train::NoamScheduleOptions o(s.get_positive<int64_t>("model_size", context.model_size));
  o.factor(s.get_positive<double>("factor", o.factor())).warmup(s.get_positive<int64_t>("warmup", o.warmup()));
  s.finish();
  return std::make_shared<train::NoamSchedule>(o);
}

std::shared_ptr<train::LRSchedule> build_constant_schedule(const Section& s, const ScheduleContext& context) {
  s.finish();
  return std::make_shared<train::ConstantSchedule>();
}

std::shared_ptr<train::LRSchedule> build_warmup_cosine_schedule(const Section& s, const ScheduleContext& context) {
  train::WarmupCosineScheduleOptions o(s.require<int64_t>("total_steps"));
  o.warmup(s.get_in_range<int64_t>("warmup", o.warmup(), 0, INT64_MAX));
  if (o.total_steps() <= o.warmup()) {
    s.fail("total_steps", fmt::format("must exceed warmup={}, got {}", o.warmup(), o.total_steps()));
  }
  o.min_ratio(s.get_in_range<double>("min_ratio", o.min_ratio(), 0.0, 1.0));
  o.linear(s.require<std::string>("name") == "warmup_linear");
  s.finish();
  return std::make_shared<train::WarmupCosineSchedule>(o);
}

std::shared_ptr<train::LRSchedule> build_inverse_sqrt_schedule(const Section& s, const ScheduleContext& context) {
  train::InverseSqrtScheduleOptions o;
  o.warmup(s.get_positive<int64_t>("warmup", o.warmup()));
  s.finish();
  return std::make_shared<train::InverseSqrtSchedule>(o);
}

train::TokenLoss build_label_smoothing(const Section& s, const LossContext& context) {
  train::LabelSmoothingOptions o(context.num_classes, context.padding_idx);
  auto criterion = train::LabelSmoothing(o.smoothing(s.get_in_range<double>("smoothing", o.smoothing(), 0.0, 0.99)));
  s.finish();
  return [criterion](const torch::Tensor& log_probs, const torch::Tensor& target) mutable {
    return criterion(log_probs, target);
  };
}

train::TokenLoss build_cross_entropy(const Section& s, const LossContext& context) {
  const double smoothing =
      s.get_in_range<double>("label_smoothing", torch::nn::CrossEntropyLossOptions().label_smoothing(), 0.0, 0.99);
  s.finish();
  const int64_t ignore_index = context.padding_idx;
  return [smoothing, ignore_index](const torch::Tensor& logits, const torch::Tensor& target) {
    return torch::cross_entropy_loss(logits, target, /*weight=*/{}, at::Reduction::Sum, ignore_index, smoothing);
  };
}

train::TokenLoss build_nll_loss(const Section& s, const LossContext& context) {
  s.finish();
  const int64_t padding_idx = context.padding_idx;
  return [padding_idx](const torch::Tensor& log_probs, const torch::Tensor& target) {
    return torch::nll_loss(log_probs, target, /*weight=*/{}, at::Reduction::Sum, padding_idx);
  };
}

}  // namespace torchzoo::configs

namespace torchzoo::configs {

train::TokenLoss build_loss(const Config& config, const LossContext& context) {
  auto loss = config.section("loss");
  return lookup(loss_registry(), loss)(loss, context);
}

}  // namespace torchzoo::configs
