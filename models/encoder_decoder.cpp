#include "torchzoo/models/encoder_decoder.h"

#include <torch/nn/init.h>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/shared_parameters.h"

namespace torchzoo::models {

EncoderDecoderImpl::EncoderDecoderImpl(EncoderDecoderOptions options) : options(std::move(options)) { reset(); }

void EncoderDecoderImpl::reset() {
  const auto d_model = options.d_model();
  TORCHZOO_CHECK(!options.share_embeddings() || options.src_vocab() == options.tgt_vocab(),
                 "EncoderDecoder: share_embeddings needs one vocabulary, got src_vocab {} and tgt_vocab {}",
                 options.src_vocab(), options.tgt_vocab());
  const auto position =
      layers::PositionalEncodingOptions(d_model).dropout(options.dropout()).max_len(options.max_len());
  encoder = register_module("encoder", layers::Encoder(layers::EncoderOptions(options.layer(), options.num_layers())));
  decoder = register_module("decoder", layers::Decoder(layers::DecoderOptions(options.layer(), options.num_layers())));
  src_embed = register_module(
      "src_embed", torch::nn::Sequential(layers::Embeddings(layers::EmbeddingsOptions(d_model, options.src_vocab())),
                                         layers::PositionalEncoding(position)));
  tgt_embed = register_module(
      "tgt_embed", torch::nn::Sequential(layers::Embeddings(layers::EmbeddingsOptions(d_model, options.tgt_vocab())),
                                         layers::PositionalEncoding(position)));
  generator = register_module("generator", layers::Generator(layers::GeneratorOptions(d_model, options.tgt_vocab())));
  tie_weights();
  reset_parameters();
}

void EncoderDecoderImpl::tie_weights() {
  auto src_lut = src_embed->ptr<layers::EmbeddingsImpl>(0)->lut;
  auto tgt_lut = tgt_embed->ptr<layers::EmbeddingsImpl>(0)->lut;
  if (options.share_embeddings()) {
    layers::share_parameter(*tgt_lut, "weight", tgt_lut->weight, src_lut->weight);  // [vocab, d_model]
  }
  if (options.tie_generator()) {
    auto& proj = generator->proj;
    layers::share_parameter(*proj, "weight", proj->weight, tgt_lut->weight);  // [tgt_vocab, d_model]
  }
}

std::shared_ptr<torch::nn::Module> EncoderDecoderImpl::clone(const std::optional<torch::Device>& device) const {
  auto copy = std::dynamic_pointer_cast<EncoderDecoderImpl>(Cloneable::clone(device));
  copy->tie_weights();
  return copy;
}

void EncoderDecoderImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  for (auto& p : layers::unique_parameters(*this)) {
    if (p.dim() > 1) {
      torch::nn::init::xavier_uniform_(p);
    }
  }
}

void EncoderDecoderImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format(
      "torchzoo::models::EncoderDecoder(src_vocab={}, tgt_vocab={}, num_layers={}, d_model={}, d_ff={}, num_heads={}, "
      "dropout={}{}{})",
      options.src_vocab(), options.tgt_vocab(), options.num_layers(), options.d_model(), options.d_ff(),
      options.num_heads(), options.dropout(), options.share_embeddings() ? ", share_embeddings" : "",
      options.tie_generator() ? ", tie_generator" : "");
}

torch::Tensor EncoderDecoderImpl::encode(const torch::Tensor& src, const torch::Tensor& src_mask) {
  return encoder(src_embed->forward(src), src_mask);  // [B, T_src, d_model]
}

torch::Tensor EncoderDecoderImpl::decode(const torch::Tensor& memory, const torch::Tensor& src_mask,
                                         const torch::Tensor& tgt, const torch::Tensor& tgt_mask) {
  return decoder(tgt_embed->forward(tgt), memory, src_mask, tgt_mask);  // [B, T_tgt, d_model]
}

torch::Tensor EncoderDecoderImpl::forward(const torch::Tensor& src, const torch::Tensor& tgt,
                                          const torch::Tensor& src_mask, const torch::Tensor& tgt_mask) {
  TORCHZOO_CHECK(src.dim() == 2 && tgt.dim() == 2 && src.size(0) == tgt.size(0),
                 "EncoderDecoder: expected src [B, T_src] and tgt [B, T_tgt] with the same B, got {} and {}",
                 detail::shape_str(src.sizes()), detail::shape_str(tgt.sizes()));
  return decode(encode(src, src_mask), src_mask, tgt, tgt_mask);
}

layers::DecoderState EncoderDecoderImpl::init_decoder_state(const torch::Tensor& memory,
                                                            const torch::Tensor& src_mask) {
  return decoder->init_state(memory, src_mask);
}

torch::Tensor EncoderDecoderImpl::decode_step(const torch::Tensor& tokens, layers::DecoderState& state) {
  TORCHZOO_CHECK(tokens.dim() == 2 && tokens.size(0) == state.batch_size() && tokens.size(1) == 1,
                 "EncoderDecoder: decode_step expects the last tokens [{}, 1], got {}", state.batch_size(),
                 detail::shape_str(tokens.sizes()));
  auto x = tgt_embed->ptr<layers::EmbeddingsImpl>(0)->forward(tokens);                   // [B, 1, d_model]
  x = tgt_embed->ptr<layers::PositionalEncodingImpl>(1)->forward_at(x, state.length());  // position length()
  return decoder->step(x, state);                                                        // [B, 1, d_model]
}

}  // namespace torchzoo::models
