#include "torchzoo/layers/layer_scale.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

LayerScaleImpl::LayerScaleImpl(LayerScaleOptions options) : options(std::move(options)) { reset(); }

void LayerScaleImpl::reset() {
  TORCHZOO_CHECK(options.dim() > 0, "LayerScale: dim must be positive, got {}", options.dim());
  gamma = register_parameter("gamma", torch::empty({options.dim()}));
  reset_parameters();
}

void LayerScaleImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  gamma.fill_(options.init_values());
}

void LayerScaleImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::LayerScale(dim={}, init_values={})", options.dim(), options.init_values());
}

torch::Tensor LayerScaleImpl::forward(const torch::Tensor& x) {
  TORCHZOO_CHECK(x.dim() >= 1 && x.size(-1) == options.dim(), "LayerScale: expected x of shape [..., {}], got {}",
                 options.dim(), detail::shape_str(x.sizes()));
  return x * gamma;
}

}  // namespace torchzoo::layers
