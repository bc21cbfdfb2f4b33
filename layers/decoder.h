#pragma once
// Stack of N decoder layers (annotated Transformer `Decoder`), with a final
// LayerNorm (`norm`) for pre-norm layers.
// Shapes: x [B, T_tgt, d_model], memory [B, T_src, d_model],
//         src_mask bool [B, 1, T_src], tgt_mask bool [B, T_tgt, T_tgt] -> [B, T_tgt, d_model].
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/decoder_layer.h"
#include "torchzoo/layers/layer_norm.h"

namespace torchzoo::layers {

struct DecoderOptions {
  DecoderOptions(TransformerLayerOptions layer, int64_t num_layers) : layer_(std::move(layer)), num_layers_(num_layers) {}
  /// Options of every layer in the stack.
  TORCH_ARG(TransformerLayerOptions, layer);
  /// Number of layers (the reference's N).
  TORCH_ARG(int64_t, num_layers) = 6;
};

/// Example:
///   Decoder decoder(DecoderOptions(TransformerLayerOptions(512, 8, 2048), 6));
///   auto y = decoder(tgt_embedded, memory, src_mask, tgt_mask);
class DecoderImpl : public torch::nn::Cloneable<DecoderImpl> {
 public:
  explicit DecoderImpl(DecoderOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& memory, const torch::Tensor& src_mask,
                        const torch::Tensor& tgt_mask);

  DecoderOptions options;
  torch::nn::ModuleList layers;
  LayerNorm norm{nullptr};  ///< only with pre-norm layers
};
TORCH_MODULE(Decoder);

}  // namespace torchzoo::layers
