#pragma once
// The copy task of the annotated Transformer ("A First Example"): random
// sequences of symbols 1 .. vocab-1 whose first symbol is the start symbol; the
// model learns to reproduce the source as the target.
//
// Every batch is drawn from its own torch CPU generator, seeded with
//   train: seed * 1000003 + k, k = epoch * train_batches + index (the k-th batch of training)
//   valid: seed * 1000003 + 2^40 + index, test: seed * 1000003 + 2^41 + index (the same every epoch)
// so training resumes exactly and the Python benchmark draws the very same batches.
#include <torch/arg.h>
#include <torch/types.h>

#include "torchzoo/data/seq2seq_batch.h"
#include "torchzoo/data/seq2seq_source.h"

namespace torchzoo::data {

/// Options of CopyTask; the defaults are the annotated Transformer's copy task.
struct CopyTaskOptions {
  /// Vocabulary size V; symbols are drawn from [1, V).
  TORCH_ARG(int64_t, vocab) = 11;
  /// Sequence length, start symbol included.
  TORCH_ARG(int64_t, seq_len) = 10;
  /// Sequences per batch.
  TORCH_ARG(int64_t, batch_size) = 80;
  /// First symbol of every sequence.
  TORCH_ARG(int64_t, start_symbol) = 1;
  /// Padding id (never drawn).
  TORCH_ARG(int64_t, pad) = 0;
  /// Training batches per epoch (the reference: 20).
  TORCH_ARG(int64_t, train_batches) = 20;
  /// Validation (and test) batches (the reference: 5).
  TORCH_ARG(int64_t, valid_batches) = 5;
  /// Seed of the batch streams.
  TORCH_ARG(uint64_t, seed) = 1;
};

/// The annotated Transformer's copy task as a Seq2SeqSource: random symbol sequences whose target is
/// the source, every batch drawn from its own seeded generator.
///
/// Example:
///   CopyTask task(CopyTaskOptions().vocab(11).batch_size(80));
///   Seq2SeqBatch b = task.batch(Split::kTrain, /*epoch=*/0, /*index=*/3);
class CopyTask : public Seq2SeqSource {
 public:
  explicit CopyTask(CopyTaskOptions options);
  int64_t num_batches(Split split) const override;
  Seq2SeqBatch batch(Split split, int64_t epoch, int64_t index) const override;
  int64_t pad() const override { return options_.pad(); }
  /// The seed of batch (split, epoch, index), as above.
  uint64_t batch_seed(Split split, int64_t epoch, int64_t index) const;
  /// The batch drawn from a CPU generator seeded with `seed`.
  Seq2SeqBatch batch(uint64_t seed) const;
  /// Only the [batch_size, seq_len] token rows of that batch.
  torch::Tensor sequences(uint64_t seed) const;
  const CopyTaskOptions& options() const { return options_; }

 private:
  CopyTaskOptions options_;
};

}  // namespace torchzoo::data
