#pragma once
// Residual connection around a sublayer, with layer normalisation and dropout
// (annotated Transformer `SublayerConnection`):
//   pre-norm  (the reference, default): x + dropout(sublayer(norm(x)))
//   post-norm (the paper's section 5.4): norm(x + dropout(sublayer(x)))
// Shapes: x [B, T, size] -> [B, T, size].
#include <functional>

#include <torch/nn/cloneable.h>
#include "torchzoo/layers/dropout.h"
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/layer_norm.h"

namespace torchzoo::layers {

/// Options of SublayerConnection: the width, the dropout and where the LayerNorm goes.
struct SublayerConnectionOptions {
  /* implicit */ SublayerConnectionOptions(int64_t size) : size_(size) {}
  /// Model width (d_model).
  TORCH_ARG(int64_t, size);
  /// Dropout on the sublayer's output before the residual sum.
  TORCH_ARG(double, dropout) = 0.1;
  /// Normalise the sublayer's input (pre-norm, the reference) or the sum (post-norm).
  TORCH_ARG(bool, norm_first) = true;
  /// eps of the LayerNorm.
  TORCH_ARG(double, layer_norm_eps) = 1e-6;
  /// Use torch::layer_norm instead of the annotated formula.
  TORCH_ARG(bool, use_torch_layer_norm) = false;
};

/// Residual connection around a sublayer with layer normalisation and dropout (annotated Transformer
/// `SublayerConnection`): x + dropout(sublayer(norm(x))) pre-norm, norm(x + dropout(sublayer(x)))
/// post-norm. Used through the module holder SublayerConnection.
///
/// Example (an encoder layer's attention half):
///   x = sublayer(x, [&](const torch::Tensor& y) { return self_attn(y, y, y, mask); });
class SublayerConnectionImpl : public torch::nn::Cloneable<SublayerConnectionImpl> {
 public:
  using Sublayer = std::function<torch::Tensor(const torch::Tensor&)>;

  explicit SublayerConnectionImpl(SublayerConnectionOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// x [B, T, size] -> [B, T, size], the residual sum around `sublayer`.
  torch::Tensor forward(const torch::Tensor& x, const Sublayer& sublayer);

  SublayerConnectionOptions options;
  LayerNorm norm{nullptr};
  Dropout dropout{nullptr};
};
TORCH_MODULE(SublayerConnection);

}  // namespace torchzoo::layers
