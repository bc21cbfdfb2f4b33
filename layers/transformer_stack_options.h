#pragma once
// The part of a model's Options that describes its Transformer stack: one
// TransformerLayerOptions (the width, heads, dropout, ... of every layer) and
// the number of layers. EncoderDecoderOptions, TransformerEncoderClassifierOptions
// and DecoderOnlyLMOptions derive from it, so the layer fields are declared
// once, in TransformerLayerOptions, and each model only chooses their defaults.
// The setters return the model's own Options, so a chain reads as one struct:
//   EncoderDecoderOptions(11, 11).num_layers(2).d_model(32).num_heads(4).share_embeddings(true)
#include <cstdint>
#include <type_traits>
#include <utility>

#include "torchzoo/layers/transformer_layer_options.h"

namespace torchzoo::layers {

/// A TransformerLayerOptions field `name` of the stack, read and set through the model's Options.
#define TORCHZOO_STACK_FIELD(name)                                                                      \
  const auto& name() const noexcept { return layer_.name(); }                                           \
  ModelOptions& name(const std::decay_t<decltype(std::declval<const TransformerLayerOptions&>().name())>& \
                         value) {                                                                       \
    layer_.name(value);                                                                                 \
    return static_cast<ModelOptions&>(*this);                                                           \
  }

/// Base of a model's Options (CRTP: ModelOptions is the derived struct).
///
/// Example:
///   struct MyOptions : layers::TransformerStackOptions<MyOptions> {
///     MyOptions() : TransformerStackOptions(layers::TransformerLayerOptions(256, 4, 1024), /*num_layers=*/4) {}
///     TORCH_ARG(int64_t, vocab) = 8000;
///   };
///   auto o = MyOptions().d_model(128).vocab(100);  // o.layer().d_model() == 128
template <class ModelOptions>
class TransformerStackOptions {
 public:
  TransformerStackOptions(TransformerLayerOptions layer, int64_t num_layers)
      : layer_(std::move(layer)), num_layers_(num_layers) {}

  /// Options shared by every layer of the stack.
  const TransformerLayerOptions& layer() const noexcept { return layer_; }
  ModelOptions& layer(TransformerLayerOptions layer) {
    layer_ = std::move(layer);
    return static_cast<ModelOptions&>(*this);
  }
  /// Layers in the stack (in each of the encoder and decoder of an encoder-decoder: the reference's N).
  int64_t num_layers() const noexcept { return num_layers_; }
  ModelOptions& num_layers(int64_t num_layers) {
    num_layers_ = num_layers;
    return static_cast<ModelOptions&>(*this);
  }

  // The fields of TransformerLayerOptions, documented there.
  TORCHZOO_STACK_FIELD(d_model)
  TORCHZOO_STACK_FIELD(num_heads)
  TORCHZOO_STACK_FIELD(d_ff)
  TORCHZOO_STACK_FIELD(dropout)
  TORCHZOO_STACK_FIELD(attention_dropout)
  TORCHZOO_STACK_FIELD(activation)
  TORCHZOO_STACK_FIELD(norm_first)
  TORCHZOO_STACK_FIELD(layer_norm_eps)
  TORCHZOO_STACK_FIELD(use_torch_layer_norm)
  TORCHZOO_STACK_FIELD(fused_attention)

 private:
  TransformerLayerOptions layer_;
  int64_t num_layers_;
};

#undef TORCHZOO_STACK_FIELD

}  // namespace torchzoo::layers
