// The progress bar's text (render), its redraws in place, lines printed above it, and silence
// where it is off.
#include <catch2/catch.hpp>

#include <algorithm>

#include "torchzoo/common/progress_bar.h"

using torchzoo::common::ProgressBar;
using torchzoo::common::ProgressBarOptions;

TEST_CASE("ProgressBar::render: label, bar, percent, count, times, rate, tail", "[common][progress]") {
  const auto line = ProgressBar::render("epoch 2/10", 45, 100, "step", 9.0, "loss 2.3150 | lr 4.10e-04", 120);
  INFO(line);
  CHECK_THAT(line, Catch::StartsWith("epoch 2/10 |"));
  CHECK_THAT(line, Catch::Contains("|  45% 45/100 step [00:09<00:11, 5.0 step/s] loss 2.3150 | lr 4.10e-04"));
  const auto bar = line.substr(line.find('|') + 1, line.find("|  45%") - line.find('|') - 1);
  // 45% of the bar's cells are full blocks (3 bytes each in UTF-8), then a partial one and spaces.
  CHECK(bar.find("█") == 0);
  CHECK(bar.find(' ') != std::string::npos);
  CHECK(ProgressBar::render("x", 0, 10, "it", 0.0, "", 80).find("0% 0/10 it [00:00<?, 0.0 it/s]") != std::string::npos);
  CHECK(ProgressBar::render("x", 3, 0, "sent", 2.0, "", 80) == "x 3 sent [00:02, 1.5 sent/s]");  // total unknown
  CHECK_THAT(ProgressBar::render("x", 1, 10, "img", 4.0, "", 80),
             Catch::Contains("4.0 s/img"));  // slow: seconds per unit
  CHECK(ProgressBar::render("x", 10, 10, "it", 3725.0, "", 80).find("[1:02:05<00:00") != std::string::npos);
  // Narrow: the bar goes first, then the text is cut to the width.
  const auto narrow = ProgressBar::render("epoch 1/1", 5, 10, "step", 1.0, "loss 1.0", 40);
  CHECK(narrow.find('|') == std::string::npos);
  CHECK(narrow.size() <= 40);
}

TEST_CASE("ProgressBar redraws in place, at most as often as asked, with lines above it", "[common][progress]") {
  std::string screen;
  std::vector<std::string> printed;
  {
    ProgressBar bar("work", 4, "it",
                    ProgressBarOptions().enabled(true).width(80).min_interval_s(0.0).write(
                        [&](const std::string& text) { screen += text; }));
    bar.update(1);
    bar.print_line("a line", [&](const std::string& line) {
      printed.push_back(line);
      screen += "<" + line + ">";
    });
    bar.update(4, "done");
  }  // the destructor ends the line
  INFO(screen);
  CHECK(printed == std::vector<std::string>{"a line"});
  CHECK(screen.find("\rwork |") == 0);
  CHECK(screen.find("\r\x1b[K<a line>\rwork |") != std::string::npos);  // erased, printed, drawn again
  CHECK(screen.find("100% 4/4 it") != std::string::npos);
  CHECK(screen.back() == '\n');

  std::string throttled;
  ProgressBar slow("work", 1000, "it",
                   ProgressBarOptions().enabled(true).width(80).min_interval_s(3600).write(
                       [&](const std::string& text) { throttled += text; }));
  for (int i = 1; i <= 1000; ++i) slow.update(i);
  CHECK(std::count(throttled.begin(), throttled.end(), '\r') == 1);  // only the first drawing
  slow.finish();
  CHECK(throttled.find("100% 1000/1000") != std::string::npos);  // finish draws the last state

  std::string silent;
  ProgressBar off("work", 3, "it",
                  ProgressBarOptions().enabled(false).write([&](const std::string& t) { silent += t; }));
  off.update(2);
  std::vector<std::string> lines;
  off.print_line("plain", [&](const std::string& line) { lines.push_back(line); });
  off.finish();
  CHECK(silent.empty());
  CHECK(lines == std::vector<std::string>{"plain"});
}
