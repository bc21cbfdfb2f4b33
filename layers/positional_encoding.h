#pragma once
// Sinusoidal positional encoding (Vaswani et al. 2017, section 3.5):
//   PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(...)
// added to the input, then dropout. The table is the buffer `pe`
// [1, max_len, d_model] (a buffer, not a parameter, as in the reference).
// Shapes: x [B, T, d_model] -> [B, T, d_model], T + offset <= max_len.
#include <torch/nn/cloneable.h>
#include "torchzoo/layers/dropout.h"
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace torchzoo::layers {

/// Options of PositionalEncoding: the width, the dropout and the longest sequence.
struct PositionalEncodingOptions {
  /* implicit */ PositionalEncodingOptions(int64_t d_model) : d_model_(d_model) {}
  /// Embedding width (even).
  TORCH_ARG(int64_t, d_model);
  /// Dropout applied after adding the encoding.
  TORCH_ARG(double, dropout) = 0.1;
  /// Longest sequence the table covers.
  TORCH_ARG(int64_t, max_len) = 5000;
};

/// Sinusoidal positional encoding (Vaswani et al. 2017, section 3.5), added to the input before
/// dropout; the table is the buffer `pe`. Used through the module holder PositionalEncoding.
///
/// Example:
///   PositionalEncoding pos(PositionalEncodingOptions(512).dropout(0.1));
///   auto y = pos(embed(tokens));
class PositionalEncodingImpl : public torch::nn::Cloneable<PositionalEncodingImpl> {
 public:
  explicit PositionalEncodingImpl(PositionalEncodingOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// x [B, T, d_model] -> [B, T, d_model], positions 0 .. T - 1 (T <= max_len).
  torch::Tensor forward(const torch::Tensor& x);
  /// Encodes positions offset .. offset + T - 1 (incremental decoding feeds one position at a time).
  torch::Tensor forward_at(const torch::Tensor& x, int64_t offset);

  PositionalEncodingOptions options;
  torch::Tensor pe;  ///< [1, max_len, d_model]
  Dropout dropout{nullptr};
};
TORCH_MODULE(PositionalEncoding);

}  // namespace torchzoo::layers
