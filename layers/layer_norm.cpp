#include "torchzoo/layers/layer_norm.h"

#include <torch/nn/functional/normalization.h>
#include <torch/nn/init.h>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/detail/annotated_layer_norm.h"

namespace torchzoo::layers {

LayerNormImpl::LayerNormImpl(LayerNormOptions options) : options(std::move(options)) { reset(); }

void LayerNormImpl::reset() {
  TORCHZOO_CHECK(options.features() > 0, "LayerNorm: features must be positive, got {}", options.features());
  TORCHZOO_CHECK(options.eps() >= 0, "LayerNorm: eps must be >= 0, got {}", options.eps());
  a_2 = register_parameter("a_2", torch::empty({options.features()}));
  b_2 = register_parameter("b_2", torch::empty({options.features()}));
  reset_parameters();
}

void LayerNormImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  a_2.fill_(1.0);
  b_2.fill_(0.0);
}

void LayerNormImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::LayerNorm(features={}, eps={}, use_torch_layer_norm={})",
                        options.features(), options.eps(), options.use_torch_layer_norm());
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) {
  TORCHZOO_CHECK(x.dim() >= 1 && x.size(-1) == options.features(),
                 "LayerNorm: expected input of shape [..., {}], got {}", options.features(),
                 detail::shape_str(x.sizes()));
  if (options.use_torch_layer_norm()) {
    return torch::layer_norm(x, {options.features()}, a_2, b_2, options.eps());
  }
  if (detail::annotated_layer_norm_fusable(x, a_2, b_2)) {
    return detail::annotated_layer_norm(x, a_2, b_2, options.eps());
  }
  auto mean = x.mean(-1, /*keepdim=*/true);
  auto std = x.std(-1, /*unbiased=*/true, /*keepdim=*/true);
  return a_2 * (x - mean) / (std + options.eps()) + b_2;
}

}  // namespace torchzoo::layers
