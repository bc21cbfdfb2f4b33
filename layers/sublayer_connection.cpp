#include "torchzoo/layers/sublayer_connection.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

SublayerConnectionImpl::SublayerConnectionImpl(SublayerConnectionOptions options) : options(std::move(options)) {
  reset();
}

void SublayerConnectionImpl::reset() {
  TORCHZOO_CHECK(options.dropout() >= 0 && options.dropout() < 1,
                 "SublayerConnection: dropout must be in [0, 1), got {}", options.dropout());
  norm = register_module("norm", LayerNorm(LayerNormOptions(options.size())
                                               .eps(options.layer_norm_eps())
                                               .use_torch_layer_norm(options.use_torch_layer_norm())));
  dropout = register_module("dropout", Dropout(options.dropout()));
}

void SublayerConnectionImpl::reset_parameters() { norm->reset_parameters(); }

void SublayerConnectionImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::SublayerConnection(size={}, dropout={}, norm_first={})", options.size(),
                        options.dropout(), options.norm_first());
}

torch::Tensor SublayerConnectionImpl::forward(const torch::Tensor& x, const Sublayer& sublayer) {
  if (options.norm_first()) {
    return dropout->forward_add(sublayer(norm(x)), x);  // x + dropout(sublayer(norm(x)))
  }
  return norm(dropout->forward_add(sublayer(x), x));  // norm(x + dropout(sublayer(x)))
}

}  // namespace torchzoo::layers
