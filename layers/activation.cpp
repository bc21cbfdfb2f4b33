#include "torchzoo/layers/activation.h"

#include <torch/nn/functional/activation.h>

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

std::string to_string(Activation activation) { return activation == Activation::kRelu ? "relu" : "gelu"; }

Activation activation_from_string(const std::string& name) {
  if (name == "relu") return Activation::kRelu;
  if (name == "gelu") return Activation::kGelu;
  TORCHZOO_CHECK(false, "unknown activation '{}'; expected one of: relu, gelu", name);
  return Activation::kRelu;
}

torch::Tensor activate(Activation activation, const torch::Tensor& x) {
  return activation == Activation::kRelu ? torch::relu(x) : torch::gelu(x);
}

}  // namespace torchzoo::layers
