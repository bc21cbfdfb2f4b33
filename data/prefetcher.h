#pragma once
// Batches made ahead on worker threads, handed out in order. Each batch is a
// pure function of its index (its own seeded generator), so the sequence does
// not depend on how the threads interleave: training with 0 or 4 workers sees
// the same batches.
//
// Example:
//   Prefetcher<Batch> batches([&](int64_t i) { return make_batch(epoch, i); }, /*count=*/100,
//                             /*workers=*/1, /*depth=*/4);
//   for (int64_t i = 0; i < 100; ++i) train_on(batches.next());
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

namespace torchzoo::data {

/// Moves `tensors` to page-locked memory when the batches are for a CUDA device, so that their copy
/// to it is asynchronous (as DataLoader(pin_memory=True)); on the CPU it leaves them alone. Called
/// where batches are made, on the worker threads.
inline void pin_memory_for(c10::Device device, std::initializer_list<at::Tensor*> tensors) {
  if (!device.is_cuda()) return;
  for (auto* tensor : tensors) *tensor = tensor->pin_memory();
}

/// Batches made ahead on worker threads and handed out in index order, each a pure function of its
/// index, so that the sequence does not depend on the threads.
///
/// Example:
///   Prefetcher<Batch> batches([&](int64_t i) { return make_batch(epoch, i); }, /*count=*/100,
///                             /*workers=*/1, /*depth=*/4);
///   for (int64_t i = 0; i < 100; ++i) train_on(batches.next());
template <class Batch>
class Prefetcher {
 public:
  /// Makes batches first, first + 1, ..., count - 1 with `make`; at most `depth`
  /// are made ahead of the consumer. workers = 0 makes each batch in next().
  Prefetcher(std::function<Batch(int64_t)> make, int64_t count, int64_t workers, int64_t depth, int64_t first = 0)
      : make_(std::move(make)),
        count_(count),
        depth_(std::max<int64_t>(depth, 1)),
        next_make_(first),
        next_take_(first) {
    TORCH_CHECK(workers >= 0, "Prefetcher: workers must be >= 0, got ", workers);
    for (int64_t w = 0; w < workers; ++w) threads_.emplace_back([this] { work(); });
  }

  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    for (auto& thread : threads_) thread.join();
  }

  /// Index of the batch next() returns.
  int64_t position() const { return next_take_; }

  /// The next batch in index order; rethrows what `make` threw for it.
  Batch next() {
    TORCH_CHECK(next_take_ < count_, "Prefetcher: all ", count_, " batches were taken");
    if (threads_.empty()) return make_(next_take_++);
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return ready_.count(next_take_) > 0; });
    auto node = ready_.extract(next_take_);
    ++next_take_;
    lock.unlock();
    changed_.notify_all();
    if (node.mapped().error) std::rethrow_exception(node.mapped().error);
    return std::move(*node.mapped().batch);
  }

 private:
  struct Slot {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return stopping_ || (next_make_ < count_ && next_make_ < next_take_ + depth_); });
      if (stopping_) return;
      const int64_t index = next_make_++;
      lock.unlock();
      Slot slot;
      try {
        slot.batch.emplace(make_(index));
      } catch (...) {
        slot.error = std::current_exception();
      }
      lock.lock();
      ready_.emplace(index, std::move(slot));
      changed_.notify_all();
    }
  }

  std::function<Batch(int64_t)> make_;
  const int64_t count_;
  const int64_t depth_;
  int64_t next_make_;
  int64_t next_take_;
  bool stopping_ = false;
  std::map<int64_t, Slot> ready_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::thread> threads_;
};

}  // namespace torchzoo::data
