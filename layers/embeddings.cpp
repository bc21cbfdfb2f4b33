#include "torchzoo/layers/embeddings.h"

#include <cmath>

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

EmbeddingsImpl::EmbeddingsImpl(EmbeddingsOptions options) : options(std::move(options)) { reset(); }

void EmbeddingsImpl::reset() {
  TORCHZOO_CHECK(options.d_model() > 0 && options.vocab() > 0,
                 "Embeddings: d_model and vocab must be positive, got {} and {}", options.d_model(), options.vocab());
  lut = register_module("lut", torch::nn::Embedding(options.vocab(), options.d_model()));
}

void EmbeddingsImpl::reset_parameters() { lut->reset_parameters(); }

void EmbeddingsImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::Embeddings(d_model={}, vocab={})", options.d_model(), options.vocab());
}

torch::Tensor EmbeddingsImpl::forward(const torch::Tensor& tokens) {
  TORCHZOO_CHECK(tokens.dim() == 2 && c10::isIntegralType(tokens.scalar_type(), /*includeBool=*/false),
                 "Embeddings: expected integer token ids of shape [B, T], got {} of type {}",
                 detail::shape_str(tokens.sizes()), c10::toString(tokens.scalar_type()));
  return lut(tokens) * std::sqrt(static_cast<double>(options.d_model()));  // [B, T, d_model]
}

}  // namespace torchzoo::layers
