#pragma once
// Decoder layer (annotated Transformer `DecoderLayer`): masked self-attention,
// attention over the encoder output (src_attn), then feed-forward, each wrapped
// in a SublayerConnection (sublayer.0 .. sublayer.2).
// Shapes: x [B, T_tgt, d_model], memory [B, T_src, d_model],
//         src_mask bool [B, 1, T_src], tgt_mask bool [B, T_tgt, T_tgt] -> [B, T_tgt, d_model].
//
// Incremental decoding: step(x_t [B, 1, d_model], src_mask, state) computes the
// next position's output from the cached keys and values of the earlier
// positions (layers/decoder_state.h) and appends its own; a sequence of steps
// gives forward's outputs under a subsequent mask, one position at a time.
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/decoder_state.h"
#include "torchzoo/layers/multi_headed_attention.h"
#include "torchzoo/layers/positionwise_feed_forward.h"
#include "torchzoo/layers/sublayer_connection.h"
#include "torchzoo/layers/transformer_layer_options.h"

namespace torchzoo::layers {

/// Options of DecoderLayer: those of every Transformer layer.
using DecoderLayerOptions = TransformerLayerOptions;

/// Decoder layer (annotated Transformer `DecoderLayer`), used through the module holder DecoderLayer:
/// masked self-attention, attention over the encoder output (`src_attn`), then the feed-forward, each
/// in a SublayerConnection (`sublayer.0` to `sublayer.2`).
///
/// Example:
///   DecoderLayer layer(DecoderLayerOptions(512, 8, 2048));
///   auto y = layer(x, memory, src_mask, tgt_mask);
///   auto state = layer->init_state(memory);
///   auto y_0 = layer->step(x.narrow(1, 0, 1), src_mask, state);  // == y.narrow(1, 0, 1) under a subsequent mask
class DecoderLayerImpl : public torch::nn::Cloneable<DecoderLayerImpl> {
 public:
  explicit DecoderLayerImpl(DecoderLayerOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// x [B, T_tgt, d_model] over memory [B, T_src, d_model], with src_mask bool [B, 1, T_src] and
  /// tgt_mask bool [B, T_tgt, T_tgt] (true = may attend) -> [B, T_tgt, d_model].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& memory, const torch::Tensor& src_mask,
                        const torch::Tensor& tgt_mask);

  /// State before the first step: memory [B, T_src, d_model] projected for src_attn, no target positions.
  DecoderLayerState init_state(const torch::Tensor& memory);
  /// One target position x [B, 1, d_model] -> [B, 1, d_model]; appends its keys and values to `state`.
  /// src_mask may be undefined: every memory position is attended (no row is padded).
  torch::Tensor step(const torch::Tensor& x, const torch::Tensor& src_mask, DecoderLayerState& state);

  DecoderLayerOptions options;
  MultiHeadedAttention self_attn{nullptr};
  MultiHeadedAttention src_attn{nullptr};
  PositionwiseFeedForward feed_forward{nullptr};
  torch::nn::ModuleList sublayer;

 private:
  SublayerConnectionImpl& residual(size_t index) { return *sublayer->ptr<SublayerConnectionImpl>(index); }
};
TORCH_MODULE(DecoderLayer);

}  // namespace torchzoo::layers
