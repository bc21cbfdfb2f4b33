#include "torchzoo/models/encoder_decoder.h"

#include <torch/nn/init.h>

#include "torchzoo/layers/detail/check.h"

namespace torchzoo::models {

layers::TransformerLayerOptions EncoderDecoderOptions::layer() const {
  return layers::TransformerLayerOptions(d_model(), num_heads(), d_ff())
      .dropout(dropout())
      .attention_dropout(attention_dropout())
      .activation(activation())
      .norm_first(norm_first())
      .layer_norm_eps(layer_norm_eps())
      .use_torch_layer_norm(use_torch_layer_norm())
      .fused_attention(fused_attention());
}

EncoderDecoderImpl::EncoderDecoderImpl(EncoderDecoderOptions options) : options(std::move(options)) { reset(); }

void EncoderDecoderImpl::reset() {
  const auto d_model = options.d_model();
  const auto position = layers::PositionalEncodingOptions(d_model).dropout(options.dropout()).max_len(options.max_len());
  encoder = register_module("encoder", layers::Encoder(layers::EncoderOptions(options.layer(), options.num_layers())));
  decoder = register_module("decoder", layers::Decoder(layers::DecoderOptions(options.layer(), options.num_layers())));
  src_embed = register_module(
      "src_embed", torch::nn::Sequential(layers::Embeddings(layers::EmbeddingsOptions(d_model, options.src_vocab())),
                                         layers::PositionalEncoding(position)));
  tgt_embed = register_module(
      "tgt_embed", torch::nn::Sequential(layers::Embeddings(layers::EmbeddingsOptions(d_model, options.tgt_vocab())),
                                         layers::PositionalEncoding(position)));
  generator = register_module("generator", layers::Generator(layers::GeneratorOptions(d_model, options.tgt_vocab())));
  reset_parameters();
}

void EncoderDecoderImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) {
    if (p.dim() > 1) {
      torch::nn::init::xavier_uniform_(p);
    }
  }
}

void EncoderDecoderImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format(
      "torchzoo::models::EncoderDecoder(src_vocab={}, tgt_vocab={}, num_layers={}, d_model={}, d_ff={}, num_heads={}, "
      "dropout={})",
      options.src_vocab(), options.tgt_vocab(), options.num_layers(), options.d_model(), options.d_ff(),
      options.num_heads(), options.dropout());
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

}  // namespace torchzoo::models
