#include "torchzoo/layers/learned_positional_embedding.h"

#include <torch/nn/init.h>

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

LearnedPositionalEmbeddingImpl::LearnedPositionalEmbeddingImpl(LearnedPositionalEmbeddingOptions options)
    : options(std::move(options)) {
  reset();
}

void LearnedPositionalEmbeddingImpl::reset() {
  TORCHZOO_CHECK(options.d_model() > 0, "LearnedPositionalEmbedding: d_model must be positive, got {}",
                 options.d_model());
  TORCHZOO_CHECK(options.max_len() > 0, "LearnedPositionalEmbedding: max_len must be positive, got {}",
                 options.max_len());
  weight = register_parameter("weight", torch::empty({options.max_len(), options.d_model()}));
  dropout = register_module("dropout", Dropout(options.dropout()));
  reset_parameters();
}

void LearnedPositionalEmbeddingImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  torch::nn::init::normal_(weight, 0.0, 0.02);
}

void LearnedPositionalEmbeddingImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::LearnedPositionalEmbedding(d_model={}, max_len={}, dropout={})",
                        options.d_model(), options.max_len(), options.dropout());
}

torch::Tensor LearnedPositionalEmbeddingImpl::forward(const torch::Tensor& x) { return forward_at(x, 0); }

torch::Tensor LearnedPositionalEmbeddingImpl::forward_at(const torch::Tensor& x, int64_t offset) {
  TORCHZOO_CHECK(x.dim() == 3 && x.size(2) == options.d_model(),
                 "LearnedPositionalEmbedding: expected input of shape [B, T, {}], got {}", options.d_model(),
                 detail::shape_str(x.sizes()));
  TORCHZOO_CHECK(offset >= 0 && offset + x.size(1) <= options.max_len(),
                 "LearnedPositionalEmbedding: positions {}..{} exceed max_len {}", offset, offset + x.size(1) - 1,
                 options.max_len());
  return dropout(x + weight.narrow(0, offset, x.size(1)));  // [B, T, d_model] + [T, d_model]
}

}  // namespace torchzoo::layers
