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

/// Options of language-model generation: the length, the end symbol, how tokens are chosen, the seed.
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

/// generate() for several prompts at once, in one batch: every row advances one position per
/// step, reading its own prompt until it ends, then its own draws; a row stops at its end symbol,
/// after max_tokens, or at the model's max_len. Greedy continuations equal generate()'s one by one (up to the rounding
/// of batched matrix products, which may flip a near tie); sampled ones come from one generator shared by the rows, so
/// they differ from one-at-a-time draws of the same seed.
///
/// Example:
///   auto ids = generate_batch(*lm, {{bos, 417}, {bos, 9, 23, 5}}, GenerateOptions().max_tokens(20).end_symbol(eos));
std::vector<std::vector<int64_t>> generate_batch(models::DecoderOnlyLMImpl& model,
                                                 const std::vector<std::vector<int64_t>>& prompts,
                                                 const GenerateOptions& options);

}  // namespace torchzoo::train
