#pragma once
// Line charts: one or more panels side by side, each with its own axes, ticks,
// title and legend, drawn with cairo into a PNG or an SVG (by the path's
// extension). Used for training curves (viz/run_curves.h); general enough for
// any x/y series.
//
// The pixel geometry of each panel is returned (ChartLayout), so that a caller
// -- a test -- can find where a value was drawn.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>

namespace torchzoo::viz {

/// One line: points (x[i], y[i]); a non-finite y breaks the line there.
struct Series {
  std::string label;
  std::vector<double> x, y;
  /// Index into the colour cycle (matplotlib's tab10); series of one run share it across panels.
  size_t colour = 0;
  /// Dashed, with a dot at each point: for sparse series such as validation figures.
  bool dashed = false;
};

/// One set of axes.
struct Panel {
  std::string title;
  std::string x_label = "step";
  std::vector<Series> series;
};

/// How draw_chart lays panels out.
struct ChartOptions {
  /// Pixels (SVG: points) of one panel, axes and labels included.
  TORCH_ARG(int, panel_width) = 520;
  TORCH_ARG(int, panel_height) = 340;
  /// Panels per row; the rows follow.
  TORCH_ARG(int, columns) = 2;
  /// A title over all panels (empty: none).
  TORCH_ARG(std::string, title) = "";
};

/// Where one panel's data went: its plot area in pixels of the picture and the data ranges it spans.
struct PanelLayout {
  double left = 0, top = 0, width = 0, height = 0;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  /// The picture's pixel column of data x, and row of data y.
  double pixel_x(double x) const { return left + (x - x_min) / (x_max - x_min) * width; }
  double pixel_y(double y) const { return top + height - (y - y_min) / (y_max - y_min) * height; }
};

/// The picture's size and where each panel's data went.
struct ChartLayout {
  int width = 0, height = 0;
  std::vector<PanelLayout> panels;
};

/// Whether `path` names a picture draw_chart and the other viz functions can write (.png or .svg).
bool is_picture_path(const std::string& path);

/// Draws `panels` into `path` (.png or .svg, written crash-safely) and returns where they went.
/// A panel without finite points is drawn empty with "no data". Throws std::invalid_argument for
/// an unknown extension or series whose x and y differ in length.
///
/// Example:
///   viz::Panel loss{"loss", "step", {{"run a", {1, 2, 3}, {2.0, 1.5, 1.2}}}};
///   viz::draw_chart({loss}, viz::ChartOptions().columns(1), "loss.png");
ChartLayout draw_chart(const std::vector<Panel>& panels, const ChartOptions& options, const std::string& path);

/// Tick values for an axis over [low, high]: round numbers (1, 2 or 5 times a power of ten) about
/// `target` of them, and the range widened to the outer ticks (nice_ticks).
struct Ticks {
  double low = 0, high = 1;
  std::vector<double> values;
};
Ticks nice_ticks(double low, double high, int target = 5);

}  // namespace torchzoo::viz
