#include "torchzoo/layers/decoder_layer.h"

#include "torchzoo/layers/detail/check.h"

namespace torchzoo::layers {

DecoderLayerImpl::DecoderLayerImpl(DecoderLayerOptions options) : options(std::move(options)) { reset(); }

void DecoderLayerImpl::reset() {
  self_attn = register_module("self_attn", MultiHeadedAttention(options.attention()));
  src_attn = register_module("src_attn", MultiHeadedAttention(options.attention()));
  feed_forward = register_module("feed_forward", PositionwiseFeedForward(options.feed_forward()));
  sublayer = register_module("sublayer", torch::nn::ModuleList());
  for (int i = 0; i < 3; ++i) {
    sublayer->push_back(SublayerConnection(options.sublayer()));
  }
}

void DecoderLayerImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::DecoderLayer(d_model={}, num_heads={}, d_ff={}, norm_first={})",
                        options.d_model(), options.num_heads(), options.d_ff(), options.norm_first());
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& memory,
                                        const torch::Tensor& src_mask, const torch::Tensor& tgt_mask) {
  const auto& m = memory;
  auto y = residual(0).forward(x, [&](const torch::Tensor& z) { return self_attn(z, z, z, tgt_mask); });
  y = residual(1).forward(y, [&](const torch::Tensor& z) { return src_attn(z, m, m, src_mask); });
  return residual(2).forward(y, [&](const torch::Tensor& z) { return feed_forward(z); });
}

}  // namespace torchzoo::layers
