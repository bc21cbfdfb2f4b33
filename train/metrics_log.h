#pragma once
// A JSON-lines log of training metrics: one object per line, each appended to
// the file in one write() as it happens, e.g.
//   {"event": "step", "epoch": 0, "step": 20, "loss": 2.31, "lr": 0.00049, "tokens_per_s": 5120.5}
// A failed write (a full disk) throws common::WriteError naming the file.
// A resumed run first cuts the log back to the checkpoint's step
// (keep_until_step), so each step appears once however often a run was
// interrupted.
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace torchzoo::train {

/// A JSON-lines log of training metrics (metrics.jsonl): one object per line, each appended in one
/// write().
///
/// Example:
///   MetricsLog log("runs/x/metrics.jsonl");
///   log.write("step", {{"epoch", int64_t{0}}, {"step", int64_t{20}}, {"loss", 2.31}});
class MetricsLog {
 public:
  using Value = std::variant<int64_t, double, std::string>;
  using Fields = std::vector<std::pair<std::string, Value>>;

  /// An empty path keeps nothing (the log is off); otherwise the file is created or appended to.
  explicit MetricsLog(const std::string& path = "");
  ~MetricsLog();
  MetricsLog(MetricsLog&& other) noexcept;
  MetricsLog& operator=(MetricsLog&& other) noexcept;
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  void write(const std::string& event, const Fields& fields);
  bool enabled() const { return fd_ >= 0; }

  /// The JSON text of one record (exposed for tests).
  static std::string format(const std::string& event, const Fields& fields);

  /// Rewrites the log at `path` (atomically) with only what a run had written when it reached
  /// optimizer step `step`: records whose "step" is at most `step` ("skip" records: below it,
  /// as a skip at step N comes after step N's checkpoint), in their order; a torn last line of
  /// a killed run goes too. Returns how many records were dropped. No file: nothing to do.
  static int64_t keep_until_step(const std::string& path, int64_t step);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace torchzoo::train
