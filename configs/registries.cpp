#include "torchzoo/configs/registries.h"

#include <mutex>

#include "torchzoo/configs/builders.h"

namespace torchzoo::configs {
namespace {

struct Registries {
  Registry<OptimizerBuilder> optimizers{"optimizer"};
  Registry<SchedulerBuilder> schedulers{"scheduler"};
  Registry<LossBuilder> losses{"loss"};
};

/// The one place every builder is registered.
void fill(Registries& r) {
  r.optimizers.add("adam", build_adam,
                   "Adam, fused by default (lr, betas, eps, weight_decay, amsgrad, no_decay, layer_decay, fused)");
  r.optimizers.add("adamw", build_adamw,
                   "AdamW, fused by default (lr, betas, eps, weight_decay, amsgrad, no_decay, layer_decay, fused)");
  r.optimizers.add("sgd", build_sgd, "torch::optim::SGD (lr, momentum, nesterov, weight_decay, no_decay, layer_decay)");

  r.schedulers.add("noam", build_noam_schedule,
                   "Vaswani et al. warm-up then inverse square root (model_size, factor, warmup)");
  r.schedulers.add("constant", build_constant_schedule, "the optimizer's lr throughout");
  r.schedulers.add("warmup_cosine", build_warmup_cosine_schedule,
                   "linear warm-up, cosine decay (warmup, total_steps, min_ratio)");
  r.schedulers.add("warmup_linear", build_warmup_cosine_schedule,
                   "linear warm-up, linear decay: BERT's fine-tuning schedule (warmup, total_steps, min_ratio)");
  r.schedulers.add("inverse_sqrt", build_inverse_sqrt_schedule, "linear warm-up, then 1/sqrt(step) (warmup)");

  r.losses.add("label_smoothing", build_label_smoothing, "KL divergence to the smoothed targets (smoothing)");
  r.losses.add("nll", build_nll_loss, "negative log-likelihood, padding ignored");
  r.losses.add("cross_entropy", build_cross_entropy, "cross-entropy over logits (label_smoothing)");
}

Registries& registries() {
  static Registries instance;
  static std::once_flag once;
  std::call_once(once, [] { fill(instance); });
  return instance;
}

}  // namespace

Registry<OptimizerBuilder>& optimizer_registry() { return registries().optimizers; }
Registry<SchedulerBuilder>& scheduler_registry() { return registries().schedulers; }
Registry<LossBuilder>& loss_registry() { return registries().losses; }

}  // namespace torchzoo::configs
