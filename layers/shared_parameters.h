#pragma once
// Parameters shared between modules (weight tying, Press & Wolf 2017;
// Vaswani et al. 2017, section 3.4): one tensor registered under several
// names, so that every name has the same storage, one gradient and one
// optimizer update, and state_dict keys stay those of the untied model.
//
// LibTorch's named_parameters() and parameters() then list the shared tensor
// once per name. An optimizer given that list would update it once per name,
// and clip_grad_norm_ would count its gradient as often: optimizers and
// gradient clipping must take unique_parameters (or unique_named_parameters)
// instead. Saving and loading by name is unaffected (Module::load writes each
// name into the same tensor).
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Makes parameter `name` of `module` (not recursive: `module` is the owner, e.g. an Embedding) the
/// tensor `shared`, which must have the parameter's shape, and rebinds `member` (the module's field
/// holding it, e.g. lut->weight) to it as well.
///
/// Example (tie a generator to the target embeddings):
///   share_parameter(*generator->proj, "weight", generator->proj->weight, tgt_lut->weight);
void share_parameter(torch::nn::Module& module, const std::string& name, torch::Tensor& member,
                     const torch::Tensor& shared);

/// Every distinct parameter of `module` (recursively) once, under the first of its names in
/// named_parameters() order.
std::vector<std::pair<std::string, torch::Tensor>> unique_named_parameters(const torch::nn::Module& module);

/// Every distinct parameter of `module` once, in named_parameters() order: what an optimizer and
/// torch::nn::utils::clip_grad_norm_ must be given when parameters are shared.
std::vector<torch::Tensor> unique_parameters(const torch::nn::Module& module);

}  // namespace torchzoo::layers
