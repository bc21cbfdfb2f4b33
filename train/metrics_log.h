#pragma once
// A JSON-lines log of training metrics: one object per line, flushed as
// written, e.g.
//   {"event": "step", "epoch": 0, "step": 20, "loss": 2.31, "lr": 0.00049, "tokens_per_s": 5120.5}
#include <fstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace torchzoo::train {

class MetricsLog {
 public:
  using Value = std::variant<int64_t, double, std::string>;
  using Fields = std::vector<std::pair<std::string, Value>>;

  /// An empty path keeps nothing (the log is off); otherwise the file is created or appended to.
  explicit MetricsLog(const std::string& path = "");
  void write(const std::string& event, const Fields& fields);
  bool enabled() const { return stream_.is_open(); }

  /// The JSON text of one record (exposed for tests).
  static std::string format(const std::string& event, const Fields& fields);

 private:
  std::ofstream stream_;
};

}  // namespace torchzoo::train
