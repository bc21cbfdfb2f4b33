#include "torchzoo/common/progress_bar.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "torchzoo/common/format.h"

namespace torchzoo::common {
namespace {

int terminal_width() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 100;
}

/// Columns `text` takes: one per code point (the bar's block characters are one column each).
int columns(const std::string& text) {
  int n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

/// `text` cut to `width` columns, never inside a UTF-8 sequence.
std::string cut(const std::string& text, int width) {
  int n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && n++ == width) return text.substr(0, i);
  }
  return text;
}

}  // namespace

bool stderr_is_terminal() {
  if (const char* forced = std::getenv("TORCHZOO_PROGRESS"); forced && *forced) return std::string(forced) != "0";
  return ::isatty(STDERR_FILENO) == 1;
}

std::string format_clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

std::string ProgressBar::render(const std::string& label, int64_t done, int64_t total, const std::string& unit,
                                double seconds, const std::string& tail, int width) {
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  const std::string rate_text =
      rate >= 1 || rate == 0 ? fmt::format("{:.1f} {}/s", rate, unit) : fmt::format("{:.1f} s/{}", 1.0 / rate, unit);
  std::string figures;
  if (total > 0) {
    const double remaining = rate > 0 ? static_cast<double>(total - done) / rate : NAN;
    figures =
        fmt::format("{:3.0f}% {}/{} {} [{}<{}, {}]", 100.0 * static_cast<double>(done) / static_cast<double>(total),
                    done, total, unit, format_clock(seconds), format_clock(remaining), rate_text);
  } else {
    figures = fmt::format("{} {} [{}, {}]", done, unit, format_clock(seconds), rate_text);
  }
  const std::string after = " " + figures + (tail.empty() ? "" : " " + tail);
  std::string line = label;
  // The bar takes 30 columns, or what the label and the figures leave if less (at least 10).
  const int room = width - columns(label) - columns(after) - 3;
  if (total > 0 && room >= 10) {
    const int cells = std::min(room, 30);
    const double filled = std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0) * cells;
    const int whole = static_cast<int>(filled);
    static const char* const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    std::string bar;
    for (int i = 0; i < whole; ++i) bar += "█";
    int used = whole;
    if (whole < cells) {
      const int part = static_cast<int>((filled - whole) * 8);
      bar += part > 0 ? eighths[part] : " ";
      ++used;
    }
    bar += std::string(static_cast<size_t>(cells - used), ' ');
    line += " |" + bar + "|";
  }
  return cut(line + after, width);
}

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit, ProgressBarOptions options)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), options_(std::move(options)) {
  if (!options_.write()) options_.write([](const std::string& text) { std::cerr << text << std::flush; });
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

ProgressBar::~ProgressBar() {
  try {
    finish();
  } catch (...) {  // a destructor never throws: a failed write to stderr loses the last bar only
  }
}

void ProgressBar::update(int64_t done, const std::string& tail) {
  done_ = done;
  tail_ = tail;
  pending_ = true;
  if (!enabled() || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (shown_ && std::chrono::duration<double>(now - last_draw_).count() < options_.min_interval_s()) return;
  draw();
}

void ProgressBar::draw() {
  last_draw_ = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(last_draw_ - start_).count();
  const int width = (options_.width() > 0 ? options_.width() : terminal_width()) - 1;  // never wrap
  // \r back to the line's start, the bar, then \x1b[K erases what a longer bar left behind.
  options_.write()("\r" + render(label_, done_, total_, unit_, seconds, tail_, width) + "\x1b[K");
  shown_ = true;
  pending_ = false;
}

void ProgressBar::erase() {
  if (shown_) options_.write()("\r\x1b[K");
  shown_ = false;
}

void ProgressBar::print_line(const std::string& line, const std::function<void(const std::string&)>& print) {
  if (!enabled() || finished_) {
    print(line);
    return;
  }
  erase();
  print(line);
  draw();
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled()) return;
  if (pending_ || !shown_) draw();
  options_.write()("\n");
}

}  // namespace torchzoo::common
