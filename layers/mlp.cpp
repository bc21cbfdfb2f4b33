#include "torchzoo/layers/mlp.h"

#include <ATen/ops/gelu.h>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/detail/linear.h"

namespace torchzoo::layers {

MlpImpl::MlpImpl(MlpOptions options) : options(std::move(options)) { reset(); }

void MlpImpl::reset() {
  const auto& o = options;
  TORCHZOO_CHECK(o.in_features() > 0 && o.hidden_features() > 0 && o.out_features() > 0,
                 "Mlp: in_features, hidden_features and out_features must be positive, got {}, {} and {}",
                 o.in_features(), o.hidden_features(), o.out_features());
  TORCHZOO_CHECK(o.drop() >= 0 && o.drop() < 1, "Mlp: drop must be in [0, 1), got {}", o.drop());
  fc1 = register_module("fc1", torch::nn::Linear(o.in_features(), o.hidden_features()));
  drop1 = register_module("drop1", Dropout(o.drop()));
  fc2 = register_module("fc2", torch::nn::Linear(o.hidden_features(), o.out_features()));
  drop2 = register_module("drop2", Dropout(o.drop()));
}

void MlpImpl::reset_parameters() {
  fc1->reset_parameters();
  fc2->reset_parameters();
}

void MlpImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::Mlp(in_features={}, hidden_features={}, out_features={}, drop={})",
                        options.in_features(), options.hidden_features(), options.out_features(), options.drop());
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  TORCHZOO_CHECK(x.dim() >= 1 && x.size(-1) == options.in_features(), "Mlp: expected x of shape [..., {}], got {}",
                 options.in_features(), detail::shape_str(x.sizes()));
  auto hidden = drop1(at::gelu(detail::linear(fc1, x)));  // [..., hidden_features]
  return drop2(detail::linear(fc2, hidden));              // [..., out_features]
}

}  // namespace torchzoo::layers
