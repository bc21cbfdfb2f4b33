#pragma once
// Text continuation with a DecoderOnlyLM: the prompt is encoded once, then
// one token per step is chosen (train/decode/sampling.h) and fed back, with each
// block's keys and values cached (use_cache) or the whole prefix re-run.
#include <cstdint>
#include <vector>

#include <torch/arg.h>

#include "torchzoo/models/decoder_only_lm.h"
#include "torchzoo/train/decode/sampling.h"

namespace torchzoo::train {

struct GenerateOptions {
  /// Tokens generated at most (the prompt not counted; the model's max_len bounds prompt + output).
  TORCH_ARG(int64_t, max_tokens) = 64;
  /// Generation stops after this token (it is returned), or -1 for none.
  TORCH_ARG(int64_t, end_symbol) = -1;
  /// How each token is chosen.
  TORCH_ARG(SamplingOptions, sampling) = SamplingOptions();
  /// Seed of the sampling generator: the same seed gives the same tokens.
  TORCH_ARG(uint64_t, seed) = 0;
  /// Incremental decoding with cached keys and values (false: re-run the model on the prefix each step).
  TORCH_ARG(bool, use_cache) = true;
};

/// The tokens that follow `prompt` (non-empty; e.g. bos + the prompt's pieces), end symbol included
/// when it was generated. Runs in eval mode without gradients, on the model's device.
///
/// Example:
///   auto ids = generate(*lm, {bos, 417, 23}, GenerateOptions().max_tokens(40).end_symbol(eos)
///                                                .sampling(SamplingOptions().top_k(40)).seed(7));
std::vector<int64_t> generate(models::DecoderOnlyLMImpl& model, const std::vector<int64_t>& prompt,
                              const GenerateOptions& options);

}  // namespace torchzoo::train
