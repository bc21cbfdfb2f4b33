#pragma once
// Choosing the next token from a language model's scores: greedy (argmax),
// or sampling at a temperature from the top-k tokens (Fan et al. 2018) and/or
// the nucleus, the smallest set of most probable tokens whose probability
// reaches top_p (Holtzman et al. 2020). The filters compose as in Hugging
// Face's generate: temperature, then top-k, then top-p.
//
// Shapes: logits (or log-probabilities) [B, V] -> tokens int64 [B].
#include <torch/arg.h>
#include <torch/types.h>

namespace torchzoo::train {

/// How the next token is chosen: greedy (temperature 0), or sampled at a temperature after the top-k
/// and top-p (nucleus) filters.
struct SamplingOptions {
  /// Scores are divided by this; 0 picks the most probable token (greedy).
  TORCH_ARG(double, temperature) = 1.0;
  /// Sample among the k most probable tokens; 0: all.
  TORCH_ARG(int64_t, top_k) = 0;
  /// Sample within the nucleus of probability top_p, in (0, 1]; 1: all.
  TORCH_ARG(double, top_p) = 1.0;
};

/// Scores [B, V] with the tokens top-k and top-p leave out set to -inf, after the temperature
/// (temperature must be > 0 here). The most probable token always stays.
torch::Tensor filter_scores(const torch::Tensor& scores, const SamplingOptions& options);

/// Next tokens [B] from scores [B, V]: argmax when temperature is 0, else a draw from
/// softmax(filter_scores(scores)) with `generator` (same generator state, same tokens).
torch::Tensor choose_next(const torch::Tensor& scores, const SamplingOptions& options, at::Generator& generator);

}  // namespace torchzoo::train
