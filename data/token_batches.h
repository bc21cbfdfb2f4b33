#pragma once
// Length-bucketed batches under a token budget, as fairseq's `--max-tokens` and
// OpenNMT's `batch_type: tokens`: examples of similar length go together, so a
// batch holds many short sentences or a few long ones and little padding, and
// every batch costs about the same memory (Vaswani et al. 2017, 5.1: "sentence
// pairs were batched together by approximate sequence length. Each training
// batch contained ... approximately 25000 source tokens and 25000 target tokens").
//
// The cost of a batch is its padded size: rows * max(longest src, longest tgt).
// Lengths are taken as given, so pass them with whatever the batch will hold
// (bos/eos included). An example of length 0 still costs one row.
//
// Randomness: one std::mt19937_64 (whose output the standard fixes) seeded with
// splitmix64 of (seed, epoch), and our own Fisher-Yates with an unbiased bounded
// draw -- std::shuffle and std::uniform_int_distribution are left to each
// standard library, and the batches must be the same on every platform for a
// run to resume or be reproduced elsewhere.
//
// Cost: two counting-sort passes over the lengths, O(n + longest length):
// 40k examples take 1-2 ms.
//
// Example:
//   std::vector<std::pair<int64_t, int64_t>> lengths = ...;  // {src, tgt} per example
//   auto batches = make_token_batches(lengths, epoch, TokenBatchOptions().batch_tokens(4096));
//   for (const auto& rows : batches) train_on(make_batch(rows));  // rows: example indices
#include <torch/arg.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace torchzoo::data {

/// Options of make_token_batches: the token budget, the row cap and the shuffling.
struct TokenBatchOptions {
  /// Budget per batch: rows * max(longest src, longest tgt) never exceeds it.
  TORCH_ARG(int64_t, batch_tokens) = 4096;
  /// Most rows in a batch (0: no cap).
  TORCH_ARG(int64_t, max_sentences) = 0;
  /// Shuffle the order of batches, and of equally long examples, each epoch.
  TORCH_ARG(bool, shuffle) = true;
  /// Seed of the shuffles (with the epoch).
  TORCH_ARG(uint64_t, seed) = 1;
};

/// lengths[i] = {src_len, tgt_len} of example i. Returns batches of example indices: the examples sorted by
/// (src, tgt) length, ties broken by a (seed, epoch)-seeded shuffle when options.shuffle (else by index),
/// cut greedily into batches that stay under the budget (and max_sentences), then the batch order shuffled
/// when options.shuffle. Every example is in exactly one batch; within a batch, rows are in length order.
/// Without shuffle the result does not depend on the epoch. A negative length, or an example whose length
/// alone exceeds batch_tokens, is an error naming the example (filter by max length first).
std::vector<std::vector<int64_t>> make_token_batches(const std::vector<std::pair<int64_t, int64_t>>& lengths,
                                                     int64_t epoch, const TokenBatchOptions& options);

}  // namespace torchzoo::data
