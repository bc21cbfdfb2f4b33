#include "torchzoo/models/decoder_only_lm.h"

#include <torch/nn/init.h>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/embeddings.h"
#include "torchzoo/layers/learned_positional_embedding.h"
#include "torchzoo/layers/positional_encoding.h"
#include "torchzoo/layers/shared_parameters.h"

namespace torchzoo::models {

void LMState::reorder(const torch::Tensor& rows) {
  for (auto& cache : layers) cache = cache.index_select(rows);
}

DecoderOnlyLMImpl::DecoderOnlyLMImpl(DecoderOnlyLMOptions options) : options(std::move(options)) { reset(); }

void DecoderOnlyLMImpl::reset() {
  const auto d_model = options.d_model();
  TORCHZOO_CHECK(options.vocab() > 0, "DecoderOnlyLM: vocab must be positive, got {}", options.vocab());
  auto lut = layers::Embeddings(layers::EmbeddingsOptions(d_model, options.vocab()));
  if (options.learned_positions()) {
    embed = torch::nn::Sequential(
        lut, layers::LearnedPositionalEmbedding(
                 layers::LearnedPositionalEmbeddingOptions(d_model, options.max_len()).dropout(options.dropout())));
  } else {
    embed = torch::nn::Sequential(
        lut, layers::PositionalEncoding(
                 layers::PositionalEncodingOptions(d_model).dropout(options.dropout()).max_len(options.max_len())));
  }
  embed = register_module("embed", embed);
  decoder = register_module("decoder", layers::Encoder(layers::EncoderOptions(options.layer(), options.num_layers())));
  generator = register_module("generator", layers::Generator(layers::GeneratorOptions(d_model, options.vocab())));
  tie_weights();
  reset_parameters();
}

void DecoderOnlyLMImpl::tie_weights() {
  if (!options.tie_embeddings()) return;
  auto lut = embed->ptr<layers::EmbeddingsImpl>(0)->lut;
  auto& proj = generator->proj;
  layers::share_parameter(*proj, "weight", proj->weight, lut->weight);  // [vocab, d_model]
}

std::shared_ptr<torch::nn::Module> DecoderOnlyLMImpl::clone(const std::optional<torch::Device>& device) const {
  auto copy = std::dynamic_pointer_cast<DecoderOnlyLMImpl>(Cloneable::clone(device));
  copy->tie_weights();
  return copy;
}

void DecoderOnlyLMImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const auto positions =
      options.learned_positions() ? embed->ptr<layers::LearnedPositionalEmbeddingImpl>(1)->weight : torch::Tensor();
  for (auto& p : layers::unique_parameters(*this)) {
    if (positions.defined() && p.is_same(positions)) continue;  // learned positions keep their N(0, 0.02^2)
    if (p.dim() > 1) torch::nn::init::xavier_uniform_(p);
  }
}

void DecoderOnlyLMImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format(
      "torchzoo::models::DecoderOnlyLM(vocab={}, num_layers={}, d_model={}, d_ff={}, num_heads={}, dropout={}, "
      "positions={}{})",
      options.vocab(), options.num_layers(), options.d_model(), options.d_ff(), options.num_heads(), options.dropout(),
      options.learned_positions() ? "learned" : "sinusoidal", options.tie_embeddings() ? ", tie_embeddings" : "");
}

torch::Tensor DecoderOnlyLMImpl::embed_at(const torch::Tensor& tokens, int64_t offset) {
  TORCHZOO_CHECK(tokens.dim() == 2, "DecoderOnlyLM: expected tokens of shape [B, T], got {}",
                 detail::shape_str(tokens.sizes()));
  auto x = embed->ptr<layers::EmbeddingsImpl>(0)->forward(tokens);  // [B, T, d_model]
  if (options.learned_positions()) return embed->ptr<layers::LearnedPositionalEmbeddingImpl>(1)->forward_at(x, offset);
  return embed->ptr<layers::PositionalEncodingImpl>(1)->forward_at(x, offset);
}

torch::Tensor DecoderOnlyLMImpl::forward(const torch::Tensor& tokens, const torch::Tensor& mask) {
  return decoder(embed_at(tokens, 0), mask);  // [B, T, d_model]
}

torch::Tensor DecoderOnlyLMImpl::step(const torch::Tensor& tokens, LMState& state) {
  TORCHZOO_CHECK(tokens.dim() == 2 && tokens.size(1) == 1, "DecoderOnlyLM: expected one token per row [B, 1], got {}",
                 detail::shape_str(tokens.sizes()));
  return decoder->step(embed_at(tokens, state.length()), state.layers);  // [B, 1, d_model]
}

}  // namespace torchzoo::models
