#include "torchzoo/layers/encoder_layer.h"

#include "torchzoo/common/check.h"

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

torch::Tensor EncoderLayerImpl::step(const torch::Tensor& x, KeyValue& cache) {
  TORCHZOO_CHECK(x.dim() == 3 && x.size(1) == 1, "EncoderLayer: expected one position [B, 1, {}] per step, got {}",
                 options.d_model(), detail::shape_str(x.sizes()));
  // The new position attends to every cached position and itself: no mask, the cache is the causal prefix.
  auto y = residual(0).forward(x, [&](const torch::Tensor& z) { return self_attn->attend_self(z, cache); });
  return residual(1).forward(y, [&](const torch::Tensor& z) { return feed_forward(z); });
}

}  // namespace torchzoo::layers
