#include "torchzoo/viz/heatmap.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "torchzoo/common/format.h"
#include "torchzoo/viz/detail/canvas.h"

namespace torchzoo::viz {
namespace {

using detail::Align;
using detail::Canvas;

constexpr double kHeatFont = 11, kHeatTitleFont = 13, kHeatGap = 24, kHeatBar = 16;
const detail::Rgb kHeatInk{0.15, 0.15, 0.15};

void check_maps(const std::vector<Heatmap>& maps, size_t rows, size_t cols) {
  if (maps.empty()) throw std::invalid_argument("draw_heatmaps: expected at least one map");
  for (const auto& map : maps) {
    if (map.rows != static_cast<int64_t>(rows) || map.cols != static_cast<int64_t>(cols) ||
        map.values.size() != rows * cols) {
      throw std::invalid_argument(fmt::format(
          "heat-map '{}': expected {} x {} values (as many as the row and column labels), got {} x {} with {} values",
          map.title, rows, cols, map.rows, map.cols, map.values.size()));
    }
  }
  if (rows == 0 || cols == 0) throw std::invalid_argument("draw_heatmaps: expected at least one row and one column");
}

}  // namespace

HeatmapLayout draw_heatmaps(const std::vector<Heatmap>& maps, const std::vector<std::string>& row_labels,
                            const std::vector<std::string>& col_labels, const HeatmapOptions& options,
                            const std::string& path) {
  const size_t rows = row_labels.size(), cols = col_labels.size();
  check_maps(maps, rows, cols);
  HeatmapLayout layout;
  layout.cell = options.cell() > 0
                    ? options.cell()
                    : std::clamp(std::floor(480.0 / static_cast<double>(std::max(rows, cols))), 8.0, 32.0);
  const double cell = layout.cell, font = std::min(kHeatFont, cell * 0.8);
  double low = options.scale_min(), high = low + 1e-6;
  for (const auto& map : maps) {
    for (const float v : map.values) {
      if (std::isfinite(v)) high = std::max(high, static_cast<double>(v));
    }
  }
  layout.scale_max = high;

  // Room for the labels: rows on the left, columns above (rotated), each at most 200 pixels.
  constexpr double kHeatLabelMax = 200;
  const int columns = std::clamp<int>(options.columns(), 1, static_cast<int>(maps.size()));
  const int grid_rows = (static_cast<int>(maps.size()) + columns - 1) / columns;
  Canvas measure(detail::Format::png, 1, 1);
  double row_room = 0, col_room = 0;
  for (const auto& l : row_labels)
    row_room = std::max(row_room, measure.text_width(measure.fit_text(l, font, kHeatLabelMax), font));
  for (const auto& l : col_labels)
    col_room = std::max(col_room, measure.text_width(measure.fit_text(l, font, kHeatLabelMax), font));
  const double map_w = cell * static_cast<double>(cols), map_h = cell * static_cast<double>(rows);
  const double block_w = row_room + 8 + map_w + kHeatGap,
               block_h = kHeatTitleFont + 10 + col_room + 8 + map_h + kHeatGap;
  const double title_h = options.title().empty() ? 0 : 30;
  layout.width = static_cast<int>(std::ceil(kHeatGap + columns * block_w + kHeatBar + 60));
  layout.height = static_cast<int>(std::ceil(title_h + kHeatGap + grid_rows * block_h));

  Canvas canvas(detail::format_of(path), layout.width, layout.height);
  auto* cr = canvas.cr();
  if (!options.title().empty()) {
    canvas.set_colour(kHeatInk);
    canvas.text(layout.width / 2.0, 8, canvas.fit_text(options.title(), kHeatTitleFont + 2, layout.width - 16.0, true),
                kHeatTitleFont + 2, Align{0.5, 0}, true);
  }
  for (size_t i = 0; i < maps.size(); ++i) {
    const double block_x = kHeatGap + static_cast<double>(i % columns) * block_w;
    const double block_y = title_h + kHeatGap + static_cast<double>(i / columns) * block_h;
    const double left = block_x + row_room + 8, top = block_y + kHeatTitleFont + 10 + col_room + 8;
    layout.origins.emplace_back(left, top);
    canvas.set_colour(kHeatInk);
    canvas.text(left + map_w / 2, block_y, canvas.fit_text(maps[i].title, kHeatTitleFont, block_w), kHeatTitleFont,
                Align{0.5, 0}, true);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < cols; ++c) {
        const double v = maps[i].values[r * cols + c];
        canvas.set_colour(detail::viridis((v - low) / (high - low)));
        cairo_rectangle(cr, left + c * cell, top + r * cell, cell, cell);
        cairo_fill(cr);
      }
    }
    canvas.set_colour(kHeatInk);
    for (size_t r = 0; r < rows; ++r) {
      canvas.text(left - 4, top + (r + 0.5) * cell, canvas.fit_text(row_labels[r], font, kHeatLabelMax), font,
                  Align{1, 0.5});
    }
    for (size_t c = 0; c < cols; ++c) {  // read upwards, from just above the map
      canvas.text(left + (c + 0.5) * cell, top - 4, canvas.fit_text(col_labels[c], font, kHeatLabelMax), font,
                  Align{0, 0.5}, false, -M_PI / 2);
    }
  }
  // The colour bar: low at the bottom, high at the top.
  const double bar_x = layout.width - kHeatBar - 52, bar_top = title_h + kHeatGap + kHeatTitleFont + 10 + col_room + 8;
  const double bar_h = std::max(60.0, std::min(map_h, 300.0));
  for (int y = 0; y < static_cast<int>(bar_h); ++y) {
    canvas.set_colour(detail::viridis(1.0 - y / bar_h));
    cairo_rectangle(cr, bar_x, bar_top + y, kHeatBar, 1.5);
    cairo_fill(cr);
  }
  canvas.set_colour(kHeatInk);
  canvas.text(bar_x + kHeatBar + 4, bar_top, fmt::format("{:.3g}", high), kHeatFont, Align{0, 0.5});
  canvas.text(bar_x + kHeatBar + 4, bar_top + bar_h, fmt::format("{:.3g}", low), kHeatFont, Align{0, 0.5});
  canvas.save(path, "heat-map");
  return layout;
}

}  // namespace torchzoo::viz
