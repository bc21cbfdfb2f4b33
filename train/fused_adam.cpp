#include "torchzoo/train/fused_adam.h"

#include <ATen/ops/_fused_adam.h>
#include <ATen/ops/_fused_adamw.h>
#include <torch/autograd.h>

#include <map>
#include <tuple>

namespace torchzoo::train {

namespace {

// One group's tensors in the fused kernel's lists, one entry per parameter with a gradient. The
// kernel takes every list on one device and dtype, so parameters are split by both.
struct FusedLists {
  std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps;
};

bool any_sparse(const std::vector<torch::optim::OptimizerParamGroup>& groups) {
  for (const auto& group : groups) {
    for (const auto& p : group.params()) {
      if (p.grad().defined() && p.grad().is_sparse()) return true;
    }
  }
  return false;
}

// Gathers a group's parameters with gradients, creating their state as torch::optim::Adam does
// (zeros like the parameter, step 0), counts the step and returns the lists by device and dtype.
template <class Options, class State>
std::map<std::tuple<std::string, c10::ScalarType>, FusedLists> gather(
    torch::optim::OptimizerParamGroup& group,
    ska::flat_hash_map<void*, std::unique_ptr<torch::optim::OptimizerParamState>>& states) {
  const auto& options = static_cast<const Options&>(group.options());
  std::map<std::tuple<std::string, c10::ScalarType>, FusedLists> lists;
  for (auto& p : group.params()) {
    if (!p.grad().defined()) continue;
    auto& slot = states[p.unsafeGetTensorImpl()];
    if (!slot) {
      auto fresh = std::make_unique<State>();
      fresh->step(0);
      fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      if (options.amsgrad()) fresh->max_exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      slot = std::move(fresh);
    }
    auto& state = static_cast<State&>(*slot);
    state.step(state.step() + 1);
    auto& list = lists[{p.device().str(), p.scalar_type()}];
    list.params.push_back(p);
    list.grads.push_back(p.grad());
    list.exp_avgs.push_back(state.exp_avg());
    list.exp_avg_sqs.push_back(state.exp_avg_sq());
    if (options.amsgrad()) list.max_exp_avg_sqs.push_back(state.max_exp_avg_sq());
    // The kernel reads the (already counted) step from a float tensor on the parameter's device.
    list.steps.push_back(torch::full({}, static_cast<double>(state.step()),
                                     torch::TensorOptions().dtype(torch::kFloat).device(p.device())));
  }
  return lists;
}

template <class Options, class State, class Kernel>
torch::Tensor fused_step(std::vector<torch::optim::OptimizerParamGroup>& groups,
                         ska::flat_hash_map<void*, std::unique_ptr<torch::optim::OptimizerParamState>>& states,
                         const torch::optim::Optimizer::LossClosure& closure, const Kernel& kernel) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : groups) {
    const auto& options = static_cast<const Options&>(group.options());
    for (auto& [where, list] : gather<Options, State>(group, states)) {
      kernel(list, options);
      // ATen's fused kernels write the parameters without bumping their version counters (as
      // torch.optim.Adam(fused=True) leaves them); bump them, so that whatever is keyed on a
      // parameter's version (autograd's saved-tensor checks, attention's fused projections) sees it.
      for (auto& param : list.params) torch::autograd::impl::bump_version(param);
    }
  }
  return loss;
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  if (any_sparse(param_groups_)) return torch::optim::Adam::step(std::move(closure));
  using Options = torch::optim::AdamOptions;
  return fused_step<Options, torch::optim::AdamParamState>(param_groups_, state_, closure, [](FusedLists& l,
                                                                                          const Options& o) {
    at::_fused_adam_(l.params, l.grads, l.exp_avgs, l.exp_avg_sqs, l.max_exp_avg_sqs, l.steps, o.lr(),
                     std::get<0>(o.betas()), std::get<1>(o.betas()), o.weight_decay(), o.eps(), o.amsgrad(),
                     /*maximize=*/false);
  });
}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  if (any_sparse(param_groups_)) return torch::optim::AdamW::step(std::move(closure));
  using Options = torch::optim::AdamWOptions;
  return fused_step<Options, torch::optim::AdamWParamState>(param_groups_, state_, closure, [](FusedLists& l,
                                                                                           const Options& o) {
    at::_fused_adamw_(l.params, l.grads, l.exp_avgs, l.exp_avg_sqs, l.max_exp_avg_sqs, l.steps, o.lr(),
                      std::get<0>(o.betas()), std::get<1>(o.betas()), o.weight_decay(), o.eps(), o.amsgrad(),
                      /*maximize=*/false);
  });
}

}  // namespace torchzoo::train
