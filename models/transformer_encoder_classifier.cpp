#include "torchzoo/models/transformer_encoder_classifier.h"

#include <torch/nn/init.h>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/embeddings.h"
#include "torchzoo/layers/learned_positional_embedding.h"
#include "torchzoo/layers/positional_encoding.h"

namespace torchzoo::models {

Pooling pooling_from_string(const std::string& name) {
  if (name == "cls") return Pooling::kCls;
  if (name == "mean") return Pooling::kMean;
  TORCHZOO_CHECK(false, "unknown pooling '{}'; expected cls or mean", name);
}

std::string to_string(Pooling pooling) { return pooling == Pooling::kCls ? "cls" : "mean"; }

TransformerEncoderClassifierImpl::TransformerEncoderClassifierImpl(TransformerEncoderClassifierOptions options)
    : options(std::move(options)) {
  reset();
}

void TransformerEncoderClassifierImpl::reset() {
  const auto d_model = options.d_model();
  TORCHZOO_CHECK(options.vocab() > 0, "TransformerEncoderClassifier: vocab must be positive, got {}", options.vocab());
  TORCHZOO_CHECK(options.num_classes() > 0, "TransformerEncoderClassifier: num_classes must be positive, got {}",
                 options.num_classes());
  embed = torch::nn::Sequential(layers::Embeddings(layers::EmbeddingsOptions(d_model, options.vocab())));
  if (options.learned_positions()) {
    embed->push_back(layers::LearnedPositionalEmbedding(
        layers::LearnedPositionalEmbeddingOptions(d_model, options.max_len()).dropout(options.dropout())));
  } else {
    embed->push_back(layers::PositionalEncoding(
        layers::PositionalEncodingOptions(d_model).dropout(options.dropout()).max_len(options.max_len())));
  }
  embed = register_module("embed", embed);
  encoder = register_module("encoder", layers::Encoder(layers::EncoderOptions(options.layer(), options.num_layers())));
  dropout = register_module("dropout", layers::Dropout(options.dropout()));
  head = register_module("head", torch::nn::Linear(d_model, options.num_classes()));
  reset_parameters();
}

void TransformerEncoderClassifierImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    if (item.key() == "embed.1.weight") continue;  // learned positions keep their N(0, 0.02^2)
    if (item.value().dim() > 1) torch::nn::init::xavier_uniform_(item.value());
  }
  torch::nn::init::zeros_(head->bias);
}

void TransformerEncoderClassifierImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format(
      "torchzoo::models::TransformerEncoderClassifier(vocab={}, num_classes={}, num_layers={}, d_model={}, d_ff={}, "
      "num_heads={}, dropout={}, positions={}, pooling={})",
      options.vocab(), options.num_classes(), options.num_layers(), options.d_model(), options.d_ff(),
      options.num_heads(), options.dropout(), options.learned_positions() ? "learned" : "sinusoidal",
      to_string(options.pooling()));
}

torch::Tensor TransformerEncoderClassifierImpl::encode(const torch::Tensor& tokens, const torch::Tensor& mask) {
  TORCHZOO_CHECK(tokens.dim() == 2, "TransformerEncoderClassifier: expected tokens of shape [B, T], got {}",
                 detail::shape_str(tokens.sizes()));
  return encoder(embed->forward(tokens), mask);  // [B, T, d_model]
}

torch::Tensor TransformerEncoderClassifierImpl::pool(const torch::Tensor& hidden, const torch::Tensor& mask) const {
  if (options.pooling() == Pooling::kCls) {
    return hidden.select(1, 0);  // [B, d_model]
  }
  auto weights = mask.squeeze(1).unsqueeze(-1).to(hidden.scalar_type());  // [B, T, 1]
  auto counts = weights.sum(1).clamp_min(1.0);                            // [B, 1]
  return (hidden * weights).sum(1) / counts;                              // [B, d_model]
}

torch::Tensor TransformerEncoderClassifierImpl::forward(const torch::Tensor& tokens, const torch::Tensor& mask) {
  TORCHZOO_CHECK(mask.defined() && mask.dim() == 3 && mask.size(0) == tokens.size(0) && mask.size(1) == 1 &&
                     mask.size(2) == tokens.size(1),
                 "TransformerEncoderClassifier: expected a mask of shape [{}, 1, {}], got {}", tokens.size(0),
                 tokens.size(1), mask.defined() ? detail::shape_str(mask.sizes()) : "undefined");
  auto hidden = encode(tokens, mask);        // [B, T, d_model]
  return head(dropout(pool(hidden, mask)));  // [B, num_classes]
}

}  // namespace torchzoo::models
