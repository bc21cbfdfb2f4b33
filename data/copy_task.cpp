#include "torchzoo/data/copy_task.h"

#include <ATen/CPUGeneratorImpl.h>

#include "torchzoo/common/check.h"

namespace torchzoo::data {

CopyTask::CopyTask(CopyTaskOptions options) : options_(std::move(options)) {
  TORCHZOO_CHECK(options_.vocab() >= 3, "CopyTask: vocab must be >= 3 (pad, start and one symbol), got {}",
                 options_.vocab());
  TORCHZOO_CHECK(options_.seq_len() >= 2, "CopyTask: seq_len must be >= 2, got {}", options_.seq_len());
  TORCHZOO_CHECK(options_.batch_size() > 0, "CopyTask: batch_size must be positive, got {}", options_.batch_size());
  TORCHZOO_CHECK(options_.train_batches() > 0 && options_.valid_batches() > 0,
                 "CopyTask: train_batches and valid_batches must be positive, got {} and {}", options_.train_batches(),
                 options_.valid_batches());
  TORCHZOO_CHECK(options_.pad() < 1 || options_.pad() >= options_.vocab(),
                 "CopyTask: pad must lie outside the drawn symbols [1, {}), got {}", options_.vocab(), options_.pad());
  TORCHZOO_CHECK(options_.start_symbol() > 0 && options_.start_symbol() < options_.vocab(),
                 "CopyTask: start_symbol must lie in [1, {}), got {}", options_.vocab(), options_.start_symbol());
}

int64_t CopyTask::num_batches(Split split) const {
  return split == Split::kTrain ? options_.train_batches() : options_.valid_batches();
}

uint64_t CopyTask::batch_seed(Split split, int64_t epoch, int64_t index) const {
  const uint64_t base = options_.seed() * 1000003ULL;
  switch (split) {
    case Split::kTrain:
      return base + static_cast<uint64_t>(epoch * options_.train_batches() + index);
    case Split::kValid:
      return base + (1ULL << 40) + static_cast<uint64_t>(index);
    case Split::kTest:
      return base + (1ULL << 41) + static_cast<uint64_t>(index);
  }
  return base;
}

Seq2SeqBatch CopyTask::batch(Split split, int64_t epoch, int64_t index) const {
  TORCHZOO_CHECK(index >= 0 && index < num_batches(split), "CopyTask: {} batch index {} out of range [0, {})",
                 to_string(split), index, num_batches(split));
  return batch(batch_seed(split, epoch, index));
}

torch::Tensor CopyTask::sequences(uint64_t seed) const {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto data = torch::randint(1, options_.vocab(), {options_.batch_size(), options_.seq_len()}, generator,
                             torch::kLong);                  // [B, T]
  data.select(1, 0).fill_(options_.start_symbol());
  return data;
}

Seq2SeqBatch CopyTask::batch(uint64_t seed) const {
  auto data = sequences(seed);
  return Seq2SeqBatch::make(data, data.clone(), options_.pad());
}

}  // namespace torchzoo::data
