#pragma once
// Output projection to vocabulary log-probabilities (annotated Transformer
// `Generator`): log_softmax(proj(x)).
// Shapes: x [B, T, d_model] -> [B, T, vocab].
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "torchzoo/layers/detail/packed_linear.h"

namespace torchzoo::layers {

/// Options of Generator: the input width and the vocabulary size.
struct GeneratorOptions {
  GeneratorOptions(int64_t d_model, int64_t vocab) : d_model_(d_model), vocab_(vocab) {}
  /// Input width.
  TORCH_ARG(int64_t, d_model);
  /// Output vocabulary size.
  TORCH_ARG(int64_t, vocab);
};

/// Output projection to vocabulary log-probabilities, log_softmax(proj(x)) (annotated Transformer
/// `Generator`), used through the module holder Generator.
///
/// Example:
///   Generator generator(GeneratorOptions(512, 32000));
///   auto log_probs = generator(decoder_out);  // [B, T, 32000]
class GeneratorImpl : public torch::nn::Cloneable<GeneratorImpl> {
 public:
  explicit GeneratorImpl(GeneratorOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;
  /// Log-probabilities: x [B, T, d_model] -> [B, T, vocab].
  torch::Tensor forward(const torch::Tensor& x);
  /// proj(x) alone [..., vocab]: what greedy decoding takes the argmax of (log_softmax keeps the order).
  torch::Tensor logits(const torch::Tensor& x);
  /// Inference through int8 linears (detail::PackedLinear::set_int8), or float32 again with false.
  void set_int8_inference(bool on);

  GeneratorOptions options;
  torch::nn::Linear proj{nullptr};

 private:
  /// proj through oneDNN's packed weight where detail::PackedLinear applies (inference).
  detail::PackedLinear packed_proj_;
};
TORCH_MODULE(Generator);

}  // namespace torchzoo::layers
