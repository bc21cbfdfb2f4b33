#pragma once
// Activation choice shared by the feed-forward layers, with its YAML/CLI names.
#include <string>

#include <torch/types.h>

namespace torchzoo::layers {

/// Feed-forward activation: ReLU (the paper) or GELU (exact erf form).
enum class Activation { kRelu, kGelu };

/// "relu" or "gelu".
std::string to_string(Activation activation);
/// Parses "relu" / "gelu"; throws naming the accepted values otherwise.
Activation activation_from_string(const std::string& name);
/// Applies the activation (gelu is the exact erf form, as torch.nn.GELU()).
torch::Tensor activate(Activation activation, const torch::Tensor& x);

}  // namespace torchzoo::layers
