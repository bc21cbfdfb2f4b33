#include "torchzoo/layers/decoder.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

DecoderImpl::DecoderImpl(DecoderOptions options) : options(std::move(options)) { reset(); }

void DecoderImpl::reset() {
  TORCHZOO_CHECK(options.num_layers() > 0, "Decoder: num_layers must be positive, got {}", options.num_layers());
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.num_layers(); ++i) {
    layers->push_back(DecoderLayer(options.layer()));
  }
  norm = nullptr;
  if (options.layer().norm_first()) {
    norm = register_module("norm", LayerNorm(options.layer().layer_norm()));
  }
}

void DecoderImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::Decoder(num_layers={})", options.num_layers());
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& x, const torch::Tensor& memory, const torch::Tensor& src_mask,
                                   const torch::Tensor& tgt_mask) {
  const auto d_model = options.layer().d_model();
  TORCHZOO_CHECK(x.dim() == 3 && x.size(2) == d_model, "Decoder: expected input of shape [B, T, {}], got {}", d_model,
                 detail::shape_str(x.sizes()));
  TORCHZOO_CHECK(memory.dim() == 3 && memory.size(0) == x.size(0) && memory.size(2) == d_model,
                 "Decoder: expected memory of shape [{}, T_src, {}], got {}", x.size(0), d_model,
                 detail::shape_str(memory.sizes()));
  auto y = x;
  for (const auto& layer : *layers) {
    y = layer->as<DecoderLayerImpl>()->forward(y, memory, src_mask, tgt_mask);
  }
  return norm ? norm(y) : y;
}

DecoderState DecoderImpl::init_state(const torch::Tensor& memory, const torch::Tensor& src_mask) {
  const auto d_model = options.layer().d_model();
  TORCHZOO_CHECK(memory.dim() == 3 && memory.size(2) == d_model,
                 "Decoder: expected memory of shape [B, T_src, {}], got {}", d_model,
                 detail::shape_str(memory.sizes()));
  TORCHZOO_CHECK(src_mask.defined() && src_mask.dim() == 3 && src_mask.size(0) == memory.size(0) &&
                     src_mask.size(1) == 1 && src_mask.size(2) == memory.size(1),
                 "Decoder: expected src_mask of shape [{}, 1, {}] for incremental decoding, got {}", memory.size(0),
                 memory.size(1), src_mask.defined() ? detail::shape_str(src_mask.sizes()) : "undefined");
  DecoderState state;
  state.src_mask = src_mask;
  state.src_padded = !src_mask.all().item<bool>();
  for (const auto& layer : *layers) {
    state.layers.push_back(layer->as<DecoderLayerImpl>()->init_state(memory));
  }
  return state;
}

torch::Tensor DecoderImpl::step(const torch::Tensor& x, DecoderState& state) {
  const auto d_model = options.layer().d_model();
  TORCHZOO_CHECK(x.dim() == 3 && x.size(0) == state.batch_size() && x.size(1) == 1 && x.size(2) == d_model,
                 "Decoder: expected one position of shape [{}, 1, {}] per step, got {}", state.batch_size(), d_model,
                 detail::shape_str(x.sizes()));
  TORCHZOO_CHECK(state.layers.size() == layers->size(), "Decoder: the state holds {} layers, the decoder has {}",
                 state.layers.size(), layers->size());
  auto y = x;
  for (size_t i = 0; i < layers->size(); ++i) {
    y = layers->ptr<DecoderLayerImpl>(i)->step(y, state.attention_mask(), state.layers[i]);
  }
  return norm ? norm(y) : y;  // [B, 1, d_model]
}

}  // namespace torchzoo::layers
