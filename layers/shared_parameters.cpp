#include "torchzoo/layers/shared_parameters.h"

#include <unordered_set>

#include "torchzoo/common/check.h"

namespace torchzoo::layers {
namespace {

/// Module keeps its registered parameters in the protected member `parameters_`, and LibTorch has no
/// public way to replace a registered tensor with another one (register_parameter refuses a name in
/// use, and rebinding a copy from named_parameters() leaves the registered handle alone). A pointer
/// to that member, formed inside a class derived from Module, reaches it in any Module.
struct ParameterTable : torch::nn::Module {
  static torch::OrderedDict<std::string, torch::Tensor>& of(torch::nn::Module& module) {
    return module.*(&ParameterTable::parameters_);
  }
};

}  // namespace

void share_parameter(torch::nn::Module& module, const std::string& name, torch::Tensor& member,
                     const torch::Tensor& shared) {
  auto& table = ParameterTable::of(module);
  auto* registered = table.find(name);
  TORCHZOO_CHECK(registered != nullptr, "share_parameter: {} has no parameter '{}' (it has: {})", module.name(), name,
                 fmt::join(table.keys(), ", "));
  TORCHZOO_CHECK(registered->sizes() == shared.sizes(),
                 "share_parameter: parameter '{}' of {} has shape {}, the shared tensor {}", name, module.name(),
                 detail::shape_str(registered->sizes()), detail::shape_str(shared.sizes()));
  TORCHZOO_CHECK(registered->is_same(member), "share_parameter: `member` is not the field holding parameter '{}' of {}",
                 name, module.name());
  *registered = shared;
  member = shared;
}

std::vector<std::pair<std::string, torch::Tensor>> unique_named_parameters(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> unique;
  std::unordered_set<const c10::TensorImpl*> seen;
  for (const auto& item : module.named_parameters()) {
    if (seen.insert(item.value().unsafeGetTensorImpl()).second) {
      unique.emplace_back(item.key(), item.value());
    }
  }
  return unique;
}

std::vector<torch::Tensor> unique_parameters(const torch::nn::Module& module) {
  std::vector<torch::Tensor> unique;
  for (auto& item : unique_named_parameters(module)) {
    unique.push_back(std::move(item.second));
  }
  return unique;
}

}  // namespace torchzoo::layers
