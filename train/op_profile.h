#pragma once
// Where a piece of work spends its time, op by op: PyTorch's autograd profiler
// (Kineto, CPU activity) records every ATen op and autograd node that runs
// while an OpProfiler is active; stop() folds the recorded event tree into one
// row per op name with its calls, self time (its own span less the spans of the
// ops it called) and total time, like `prof.key_averages().table(
// sort_by="self_cpu_time_total")` in Python. The trace itself can be saved for
// chrome://tracing or Perfetto.
//
// Example:
//   OpProfiler profiler;
//   profiler.start();
//   run_one_step();
//   OpProfile profile = profiler.stop();
//   std::cout << profile.table(20);
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace torch::autograd::profiler {
struct ProfilerResult;
}

namespace torchzoo::train {

/// One op name's share of a profile.
struct OpStat {
  std::string name;
  int64_t calls = 0;
  double self_us = 0.0;   ///< its own time: its spans less those of the ops it called
  double total_us = 0.0;  ///< its spans, the ops it called included (nested calls of itself counted once)
};

/// What OpProfiler::stop() returns: one row per op name with its calls, self and total time, and
/// the trace.
class OpProfile {
 public:
  OpProfile(std::vector<OpStat> ops, double wall_us, std::shared_ptr<torch::autograd::profiler::ProfilerResult> trace);

  /// Every op name, by self time, most first.
  const std::vector<OpStat>& ops() const { return ops_; }
  /// From start() to stop(), in microseconds.
  double wall_us() const { return wall_us_; }
  /// The sum of all self times: the time spent in ops, on all threads that ran them.
  double self_us_total() const;
  /// The `rows` ops with the most self time as an aligned text table, with each one's share of
  /// self_us_total(), then a line with the totals.
  std::string table(size_t rows) const;
  /// Writes the trace in Chrome's trace-event JSON format (chrome://tracing, ui.perfetto.dev).
  void save_trace(const std::string& path) const;

 private:
  std::vector<OpStat> ops_;
  double wall_us_ = 0.0;
  std::shared_ptr<torch::autograd::profiler::ProfilerResult> trace_;
};

/// Starts and stops PyTorch's profiler on the calling thread (ops that thread runs, and the
/// intra-op and autograd threads' ops recorded under it). One profiler at a time per process.
class OpProfiler {
 public:
  OpProfiler() = default;
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;

  void start();
  /// Stops recording and returns what was recorded since start().
  OpProfile stop();
  bool running() const { return running_; }

 private:
  bool running_ = false;
  int64_t started_ns_ = 0;
};

}  // namespace torchzoo::train
