#pragma once
// Encoder layer (annotated Transformer `EncoderLayer`): self-attention, then
// feed-forward, each wrapped in a SublayerConnection (sublayer.0, sublayer.1).
// Shapes: x [B, T, d_model], mask bool [B, 1, T] (true = may attend) -> [B, T, d_model].
//
// Under a causal mask the layer is a decoder-only (GPT) block, and step()
// decodes one position at a time: x_t [B, 1, d_model] attends to the cached
// keys and values of the earlier positions (`cache`, [B, h, T, d_k] each) and
// its own, which it appends -- forward under a subsequent mask, one position
// per call.
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/multi_headed_attention.h"
#include "torchzoo/layers/positionwise_feed_forward.h"
#include "torchzoo/layers/sublayer_connection.h"
#include "torchzoo/layers/transformer_layer_options.h"

namespace torchzoo::layers {

/// Options of EncoderLayer: those of every Transformer layer.
using EncoderLayerOptions = TransformerLayerOptions;

/// Encoder layer (annotated Transformer `EncoderLayer`), used through the module holder EncoderLayer:
/// self-attention, then the feed-forward, each in a SublayerConnection (`sublayer.0`, `sublayer.1`).
///
/// Example:
///   EncoderLayer layer(EncoderLayerOptions(/*d_model=*/512, /*num_heads=*/8, /*d_ff=*/2048));
///   auto y = layer(x, src_mask);
class EncoderLayerImpl : public torch::nn::Cloneable<EncoderLayerImpl> {
 public:
  explicit EncoderLayerImpl(EncoderLayerOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// x [B, T, d_model], mask bool [B, 1, T] or [B, T, T] (true = may attend) -> [B, T, d_model].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  /// One position x [B, 1, d_model] after the positions in `cache` (which it extends by one) -> [B, 1, d_model].
  torch::Tensor step(const torch::Tensor& x, KeyValue& cache);

  EncoderLayerOptions options;
  MultiHeadedAttention self_attn{nullptr};
  PositionwiseFeedForward feed_forward{nullptr};
  torch::nn::ModuleList sublayer;

 private:
  SublayerConnectionImpl& residual(size_t index) { return *sublayer->ptr<SublayerConnectionImpl>(index); }
};
TORCH_MODULE(EncoderLayer);

}  // namespace torchzoo::layers
