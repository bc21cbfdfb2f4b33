#pragma once
// Where sequence-to-sequence batches come from. Batches are addressed by
// (split, epoch, index) so that a trainer resuming from a checkpoint sees the
// very batches it would have seen without the interruption.
#include <string>

#include "torchzoo/data/seq2seq_batch.h"

namespace torchzoo::data {

/// A data split.
enum class Split { kTrain, kValid, kTest };

/// "train", "valid" or "test".
std::string to_string(Split split);

/// Where sequence-to-sequence batches come from, addressed by (split, epoch, index) so that a
/// resumed run sees the batches it would have seen without the interruption.
class Seq2SeqSource {
 public:
  virtual ~Seq2SeqSource() = default;
  /// Batches in one epoch of `split`.
  virtual int64_t num_batches(Split split) const = 0;
  /// Batch `index` (0-based) of epoch `epoch` (0-based) of `split`, on the CPU.
  virtual Seq2SeqBatch batch(Split split, int64_t epoch, int64_t index) const = 0;
  /// Padding id of source and target.
  virtual int64_t pad() const = 0;
};

}  // namespace torchzoo::data
