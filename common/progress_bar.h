#pragma once
// A live one-line progress bar for long work on a terminal, in the manner of
// tqdm: label, bar, count, rate, elapsed and remaining time, and a free-form
// tail (loss, lr), redrawn in place at most ten times a second:
//
//   epoch 2/10 |███████████▌            |  47% 212/450 step [00:31<00:35, 6.8 step/s] loss 2.315 | lr 4.1e-04
//
// Where stderr is not a terminal (CI, a redirected log) the bar draws nothing,
// so logs keep only their plain lines. Lines printed while a bar is shown go
// above it (print_line).
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <torch/arg.h>

namespace torchzoo::common {

/// Whether standard error is a terminal (where a bar is drawn by default). TORCHZOO_PROGRESS=0
/// or 1 overrides the answer (for tests and for logs that want no bar).
bool stderr_is_terminal();

/// Options of ProgressBar: whether and how wide it draws, how often, and where.
struct ProgressBarOptions {
  /// Draw at all (default: stderr_is_terminal()).
  TORCH_ARG(bool, enabled) = stderr_is_terminal();
  /// Characters of the whole line; 0: the terminal's width (else 100).
  TORCH_ARG(int, width) = 0;
  /// Least time between two redraws, in seconds.
  TORCH_ARG(double, min_interval_s) = 0.1;
  /// Where the line goes (default: stderr, unbuffered).
  TORCH_ARG(std::function<void(const std::string&)>, write) = nullptr;
};

/// A live one-line progress bar on a terminal, as tqdm draws it; draws nothing where stderr is not a
/// terminal.
///
/// Example:
///   common::ProgressBar bar("translating", sentences.size(), "sent");
///   for (size_t i = 0; i < sentences.size(); ++i) { ...; bar.update(i + 1); }
///   bar.finish();
class ProgressBar {
 public:
  /// `total` 0: unknown (no bar, no remaining time; the count and rate still show).
  ProgressBar(std::string label, int64_t total, std::string unit, ProgressBarOptions options = {});
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// `done` of total so far, with `tail` after the figures; redrawn unless one was drawn
  /// less than min_interval_s ago (the last update before finish() is always drawn).
  void update(int64_t done, const std::string& tail = "");
  /// Writes `line` and a newline where the bar was, then draws the bar again below it.
  void print_line(const std::string& line, const std::function<void(const std::string&)>& print);
  /// Draws the final state and ends the line (called by the destructor if need be).
  void finish();
  bool enabled() const { return options_.enabled(); }

  /// The bar's text for `done` of `total` after `seconds`, `width` characters at most (exposed for tests).
  static std::string render(const std::string& label, int64_t done, int64_t total, const std::string& unit,
                            double seconds, const std::string& tail, int width);

 private:
  void draw();
  void erase();

  std::string label_, unit_, tail_;
  int64_t total_, done_ = 0;
  ProgressBarOptions options_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool shown_ = false, finished_ = false, pending_ = false;
};

/// "1:02:03", "02:03": a duration as the bar shows it.
std::string format_clock(double seconds);

}  // namespace torchzoo::common
