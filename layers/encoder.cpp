#include "torchzoo/layers/encoder.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

EncoderImpl::EncoderImpl(EncoderOptions options) : options(std::move(options)) { reset(); }

void EncoderImpl::reset() {
  TORCHZOO_CHECK(options.num_layers() > 0, "Encoder: num_layers must be positive, got {}", options.num_layers());
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.num_layers(); ++i) {
    layers->push_back(EncoderLayer(options.layer()));
  }
  norm = nullptr;
  if (options.layer().norm_first()) {
    norm = register_module("norm", LayerNorm(options.layer().layer_norm()));
  }
}

void EncoderImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::Encoder(num_layers={})", options.num_layers());
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  TORCHZOO_CHECK(x.dim() == 3 && x.size(2) == options.layer().d_model(),
                 "Encoder: expected input of shape [B, T, {}], got {}", options.layer().d_model(),
                 detail::shape_str(x.sizes()));
  auto y = x;
  for (const auto& layer : *layers) {
    y = layer->as<EncoderLayerImpl>()->forward(y, mask);
  }
  return norm ? norm(y) : y;
}

torch::Tensor EncoderImpl::step(const torch::Tensor& x, std::vector<KeyValue>& caches) {
  TORCHZOO_CHECK(x.dim() == 3 && x.size(1) == 1 && x.size(2) == options.layer().d_model(),
                 "Encoder: expected one position of shape [B, 1, {}] per step, got {}", options.layer().d_model(),
                 detail::shape_str(x.sizes()));
  if (caches.empty()) caches.resize(layers->size());
  TORCHZOO_CHECK(caches.size() == layers->size(), "Encoder: {} caches for {} layers", caches.size(), layers->size());
  auto y = x;
  for (size_t i = 0; i < layers->size(); ++i) {
    y = layers->ptr<EncoderLayerImpl>(i)->step(y, caches[i]);
  }
  return norm ? norm(y) : y;  // [B, 1, d_model]
}

}  // namespace torchzoo::layers
