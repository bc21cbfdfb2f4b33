#include "torchzoo/layers/decoder_layer.h"

#include "torchzoo/common/check.h"

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

DecoderLayerState DecoderLayerImpl::init_state(const torch::Tensor& memory) {
  return {KeyValue{}, src_attn->project_key_value(memory, memory)};  // src_attn: [B, h, T_src, d_k]
}

torch::Tensor DecoderLayerImpl::step(const torch::Tensor& x, const torch::Tensor& src_mask, DecoderLayerState& state) {
  TORCHZOO_CHECK(x.dim() == 3 && x.size(1) == 1, "DecoderLayer: expected one position [B, 1, {}] per step, got {}",
                 options.d_model(), detail::shape_str(x.sizes()));
  // The new position attends to every cached position and itself: no mask, the cache is the causal prefix.
  auto y = residual(0).forward(x, [&](const torch::Tensor& z) { return self_attn->attend_self(z, state.self_attn); });
  y = residual(1).forward(y, [&](const torch::Tensor& z) { return src_attn->attend(z, state.src_attn, src_mask); });
  return residual(2).forward(y, [&](const torch::Tensor& z) { return feed_forward(z); });
}

}  // namespace torchzoo::layers
