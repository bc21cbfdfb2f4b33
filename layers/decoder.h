#pragma once
// Stack of N decoder layers (annotated Transformer `Decoder`), with a final
// LayerNorm (`norm`) for pre-norm layers.
// Shapes: x [B, T_tgt, d_model], memory [B, T_src, d_model],
//         src_mask bool [B, 1, T_src], tgt_mask bool [B, T_tgt, T_tgt] -> [B, T_tgt, d_model].
//
// Incremental decoding: init_state(memory, src_mask) projects the memory for
// every layer's src_attn once; step(x_t [B, 1, d_model], state) then decodes one
// position with the cached keys and values (layers/decoder_state.h).
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/decoder_layer.h"
#include "torchzoo/layers/decoder_state.h"
#include "torchzoo/layers/layer_norm.h"

namespace torchzoo::layers {

/// Options of Decoder: the options of every layer and the number of layers.
struct DecoderOptions {
  DecoderOptions(TransformerLayerOptions layer, int64_t num_layers)
      : layer_(std::move(layer)), num_layers_(num_layers) {}
  /// Options of every layer in the stack.
  TORCH_ARG(TransformerLayerOptions, layer);
  /// Number of layers (the reference's N).
  TORCH_ARG(int64_t, num_layers) = 6;
};

/// Stack of decoder layers (annotated Transformer `Decoder`), used through the module holder
/// Decoder; with pre-norm layers a final LayerNorm `norm` follows the stack.
///
/// Example:
///   Decoder decoder(DecoderOptions(TransformerLayerOptions(512, 8, 2048), 6));
///   auto y = decoder(tgt_embedded, memory, src_mask, tgt_mask);
///   auto state = decoder->init_state(memory, src_mask);
///   auto y_t = decoder->step(x_t, state);  // [B, 1, d_model], position state.length() before the call
class DecoderImpl : public torch::nn::Cloneable<DecoderImpl> {
 public:
  explicit DecoderImpl(DecoderOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// x [B, T_tgt, d_model] over the encoder output memory [B, T_src, d_model], with src_mask bool
  /// [B, 1, T_src] and tgt_mask bool [B, T_tgt, T_tgt] (true = may attend) -> [B, T_tgt, d_model].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& memory, const torch::Tensor& src_mask,
                        const torch::Tensor& tgt_mask);

  /// State before the first step: memory [B, T_src, d_model] projected for every layer's src_attn.
  DecoderState init_state(const torch::Tensor& memory, const torch::Tensor& src_mask);
  /// Next target position x [B, 1, d_model] (embedded, position-encoded) -> [B, 1, d_model];
  /// appends the position's keys and values to `state`.
  torch::Tensor step(const torch::Tensor& x, DecoderState& state);

  DecoderOptions options;
  torch::nn::ModuleList layers;
  LayerNorm norm{nullptr};  ///< only with pre-norm layers
};
TORCH_MODULE(Decoder);

}  // namespace torchzoo::layers
