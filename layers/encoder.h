#pragma once
// Stack of N encoder layers (annotated Transformer `Encoder`). With pre-norm
// layers a final LayerNorm (`norm`) normalises the output, as in the
// reference; post-norm layers end normalised already, so no `norm` is made.
// Shapes: x [B, T, d_model], mask bool [B, 1, T] (true = may attend) -> [B, T, d_model].
// Under a causal mask the stack is a decoder-only model's; step() then decodes
// one position with each layer's cached keys and values (EncoderLayer::step).
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/encoder_layer.h"
#include "torchzoo/layers/layer_norm.h"

namespace torchzoo::layers {

/// Options of Encoder: the options of every layer and the number of layers.
struct EncoderOptions {
  EncoderOptions(TransformerLayerOptions layer, int64_t num_layers)
      : layer_(std::move(layer)), num_layers_(num_layers) {}
  /// Options of every layer in the stack.
  TORCH_ARG(TransformerLayerOptions, layer);
  /// Number of layers (the reference's N).
  TORCH_ARG(int64_t, num_layers) = 6;
};

/// Stack of encoder layers (annotated Transformer `Encoder`), used through the module holder
/// Encoder; with pre-norm layers a final LayerNorm `norm` follows the stack.
///
/// Example:
///   Encoder encoder(EncoderOptions(TransformerLayerOptions(512, 8, 2048), /*num_layers=*/6));
///   auto memory = encoder(src_embedded, src_mask);
class EncoderImpl : public torch::nn::Cloneable<EncoderImpl> {
 public:
  explicit EncoderImpl(EncoderOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// x [B, T, d_model], mask bool [B, 1, T] or [B, T, T] (true = may attend) -> [B, T, d_model].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  /// One position x [B, 1, d_model] after those cached in `caches` (one KeyValue per layer, empty
  /// before the first step; each extended by one) -> [B, 1, d_model].
  torch::Tensor step(const torch::Tensor& x, std::vector<KeyValue>& caches);

  EncoderOptions options;
  torch::nn::ModuleList layers;
  LayerNorm norm{nullptr};  ///< only with pre-norm layers
};
TORCH_MODULE(Encoder);

}  // namespace torchzoo::layers
