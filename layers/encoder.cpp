#include "torchzoo/layers/encoder.h"

#include "torchzoo/layers/detail/check.h"

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

}  // namespace torchzoo::layers
