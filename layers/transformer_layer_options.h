#pragma once
// Options shared by EncoderLayer and DecoderLayer (and, with num_layers, by
// Encoder and Decoder, and by the models through TransformerStackOptions).
// Names follow the glossary: the annotated Transformer's h, d_ff, N become
// num_heads, d_ff, num_layers.
#include <optional>

#include <torch/arg.h>

#include "torchzoo/layers/activation.h"
#include "torchzoo/layers/multi_headed_attention.h"
#include "torchzoo/layers/positionwise_feed_forward.h"
#include "torchzoo/layers/sublayer_connection.h"

namespace torchzoo::layers {

/// Options of one Transformer layer (EncoderLayer, DecoderLayer), shared by every layer of a stack
/// (Encoder, Decoder) and by the models' Options (TransformerStackOptions).
struct TransformerLayerOptions {
  TransformerLayerOptions(int64_t d_model, int64_t num_heads, int64_t d_ff)
      : d_model_(d_model), num_heads_(num_heads), d_ff_(d_ff) {}
  /// Model width.
  TORCH_ARG(int64_t, d_model);
  /// Attention heads.
  TORCH_ARG(int64_t, num_heads);
  /// Feed-forward hidden width.
  TORCH_ARG(int64_t, d_ff);
  /// Dropout on residual branches and feed-forward hidden activations.
  TORCH_ARG(double, dropout) = 0.1;
  /// Dropout on attention weights.
  TORCH_ARG(double, attention_dropout) = 0.1;
  /// Dropout on the feed-forward's hidden activations when it differs from `dropout` (BERT: 0).
  TORCH_ARG(std::optional<double>, activation_dropout) = std::nullopt;
  /// Feed-forward activation.
  TORCH_ARG(Activation, activation) = Activation::kRelu;
  /// Pre-norm (the reference) or post-norm residual blocks.
  TORCH_ARG(bool, norm_first) = true;
  /// eps of every LayerNorm.
  TORCH_ARG(double, layer_norm_eps) = 1e-6;
  /// torch::layer_norm instead of the annotated LayerNorm formula.
  TORCH_ARG(bool, use_torch_layer_norm) = false;
  /// Fused scaled-dot-product attention when weights are not kept.
  TORCH_ARG(bool, fused_attention) = true;

 public:
  /// Options of the sub-modules derived from these.
  MultiHeadedAttentionOptions attention() const {
    return MultiHeadedAttentionOptions(d_model(), num_heads()).dropout(attention_dropout()).fused(fused_attention());
  }
  PositionwiseFeedForwardOptions feed_forward() const {
    return PositionwiseFeedForwardOptions(d_model(), d_ff())
        .dropout(activation_dropout().value_or(dropout()))
        .activation(activation());
  }
  SublayerConnectionOptions sublayer() const {
    return SublayerConnectionOptions(d_model())
        .dropout(dropout())
        .norm_first(norm_first())
        .layer_norm_eps(layer_norm_eps())
        .use_torch_layer_norm(use_torch_layer_norm());
  }
  LayerNormOptions layer_norm() const {
    return LayerNormOptions(d_model()).eps(layer_norm_eps()).use_torch_layer_norm(use_torch_layer_norm());
  }
};

}  // namespace torchzoo::layers
