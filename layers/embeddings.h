#pragma once
// Token embeddings scaled by sqrt(d_model) (Vaswani et al. 2017, section 3.4;
// annotated Transformer `Embeddings`, lookup table named `lut`).
// Shapes: tokens [B, T] int64 -> [B, T, d_model].
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Options of Embeddings: the width and the vocabulary size.
struct EmbeddingsOptions {
  EmbeddingsOptions(int64_t d_model, int64_t vocab) : d_model_(d_model), vocab_(vocab) {}
  /// Embedding width.
  TORCH_ARG(int64_t, d_model);
  /// Vocabulary size; token ids must lie in [0, vocab).
  TORCH_ARG(int64_t, vocab);
};

/// Token embeddings scaled by sqrt(d_model) (annotated Transformer `Embeddings`), used through the
/// module holder Embeddings; the lookup table is `lut`.
///
/// Example:
///   Embeddings embed(EmbeddingsOptions(512, 32000));
///   auto x = embed(tokens);  // [B, T] -> [B, T, 512]
class EmbeddingsImpl : public torch::nn::Cloneable<EmbeddingsImpl> {
 public:
  explicit EmbeddingsImpl(EmbeddingsOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// tokens [B, T] int64 -> [B, T, d_model].
  torch::Tensor forward(const torch::Tensor& tokens);

  EmbeddingsOptions options;
  torch::nn::Embedding lut{nullptr};
};
TORCH_MODULE(Embeddings);

}  // namespace torchzoo::layers
