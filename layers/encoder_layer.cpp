#include "torchzoo/layers/encoder_layer.h"

#include "torchzoo/layers/detail/check.h"

namespace torchzoo::layers {

EncoderLayerImpl::EncoderLayerImpl(EncoderLayerOptions options) : options(std::move(options)) { reset(); }

void EncoderLayerImpl::reset() {
  self_attn = register_module("self_attn", MultiHeadedAttention(options.attention()));
  feed_forward = register_module("feed_forward", PositionwiseFeedForward(options.feed_forward()));
  sublayer = register_module("sublayer", torch::nn::ModuleList());
  for (int i = 0; i < 2; ++i) {
    sublayer->push_back(SublayerConnection(options.sublayer()));
  }
}

void EncoderLayerImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::EncoderLayer(d_model={}, num_heads={}, d_ff={}, norm_first={})",
                        options.d_model(), options.num_heads(), options.d_ff(), options.norm_first());
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  auto y = residual(0).forward(x, [&](const torch::Tensor& z) { return self_attn(z, z, z, mask); });
  return residual(1).forward(y, [&](const torch::Tensor& z) { return feed_forward(z); });
}

}  // namespace torchzoo::layers
