#pragma once
// Learned absolute position embeddings (BERT, GPT-2): a parameter `weight`
// [max_len, d_model] whose row t is added to the input at position t, then
// dropout. Initialised N(0, 0.02^2), as BERT and GPT-2 do. The alternative to
// the fixed sinusoidal PositionalEncoding, with the same forward/forward_at.
// Shapes: x [B, T, d_model] -> [B, T, d_model], T + offset <= max_len.
#include <torch/nn/cloneable.h>
#include "torchzoo/layers/dropout.h"
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Options of LearnedPositionalEmbedding: the width, the positions covered and the dropout.
struct LearnedPositionalEmbeddingOptions {
  LearnedPositionalEmbeddingOptions(int64_t d_model, int64_t max_len) : d_model_(d_model), max_len_(max_len) {}
  /// Embedding width.
  TORCH_ARG(int64_t, d_model);
  /// Positions covered (rows of the table).
  TORCH_ARG(int64_t, max_len);
  /// Dropout applied after adding the embedding.
  TORCH_ARG(double, dropout) = 0.1;
};

/// Learned absolute position embeddings (BERT, GPT-2), added to the input before dropout; used
/// through the module holder LearnedPositionalEmbedding.
///
/// Example:
///   LearnedPositionalEmbedding pos(LearnedPositionalEmbeddingOptions(256, 512));
///   auto y = pos(embed(tokens));
class LearnedPositionalEmbeddingImpl : public torch::nn::Cloneable<LearnedPositionalEmbeddingImpl> {
 public:
  explicit LearnedPositionalEmbeddingImpl(LearnedPositionalEmbeddingOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// x [B, T, d_model] -> [B, T, d_model], positions 0 .. T - 1 (T <= max_len).
  torch::Tensor forward(const torch::Tensor& x);
  /// Embeds positions offset .. offset + T - 1 (incremental decoding feeds one position at a time).
  torch::Tensor forward_at(const torch::Tensor& x, int64_t offset);

  LearnedPositionalEmbeddingOptions options;
  torch::Tensor weight;  ///< [max_len, d_model]
  Dropout dropout{nullptr};
};
TORCH_MODULE(LearnedPositionalEmbedding);

}  // namespace torchzoo::layers
