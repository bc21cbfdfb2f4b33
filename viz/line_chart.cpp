#include "torchzoo/viz/line_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "torchzoo/common/format.h"
#include "torchzoo/viz/detail/canvas.h"

namespace torchzoo::viz {
namespace {

using detail::Align;
using detail::Canvas;

// Margins of a panel's plot area within its cell (pixels): room for the title, tick labels and axis label.
constexpr double kChartLeft = 64, kChartRight = 16, kChartTop = 30, kChartBottom = 44;
constexpr double kChartFont = 12, kChartTitleFont = 14;
const detail::Rgb kChartInk{0.15, 0.15, 0.15}, kChartGrid{0.88, 0.88, 0.88};

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double v) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool empty() const { return !(low <= high); }
};

/// A tick label: as short as it can be while distinct at the ticks' spacing.
std::string tick_label(double value, double step) {
  if (std::abs(value) < step * 1e-9) return "0";
  const double magnitude = std::max(std::abs(value), step);
  if (magnitude >= 1e5 || magnitude < 1e-3) return fmt::format("{:.2g}", value);
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return fmt::format("{:.{}f}", value, decimals);
}

void draw_legend(Canvas& canvas, const Panel& panel, const PanelLayout& area) {
  std::vector<const Series*> shown;
  for (const auto& s : panel.series) {
    if (!s.label.empty()) shown.push_back(&s);
  }
  if (shown.empty()) return;
  constexpr double line = 16, swatch = 22;
  double width = 0;
  for (const auto* s : shown)
    width = std::max(width, canvas.text_width(canvas.fit_text(s->label, kChartFont - 1, 220), kChartFont - 1));
  const double box_w = width + swatch + 16, box_h = line * static_cast<double>(shown.size()) + 8;
  // The corner whose box covers the fewest points of the lines (each segment sampled), top right first.
  double x = area.left + area.width - box_w - 6, y = area.top + 6, fewest = -1;
  for (const auto& [cx, cy] :
       {std::pair{x, y}, std::pair{area.left + 6, y}, std::pair{x, area.top + area.height - box_h - 6},
        std::pair{area.left + 6, area.top + area.height - box_h - 6}}) {
    double covered = 0;
    for (const auto& s : panel.series) {
      for (size_t i = 0; i + 1 < s.x.size(); ++i) {
        for (int k = 0; k <= 8; ++k) {
          const double px = area.pixel_x(s.x[i] + (s.x[i + 1] - s.x[i]) * k / 8.0);
          const double py = area.pixel_y(s.y[i] + (s.y[i + 1] - s.y[i]) * k / 8.0);
          covered += px >= cx && px <= cx + box_w && py >= cy && py <= cy + box_h;
        }
      }
    }
    if (fewest < 0 || covered < fewest) {
      fewest = covered;
      x = cx;
      y = cy;
    }
  }
  auto* cr = canvas.cr();
  cairo_rectangle(cr, x, y, box_w, box_h);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_fill_preserve(cr);
  canvas.set_colour(kChartGrid);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (size_t i = 0; i < shown.size(); ++i) {
    const double row = y + 4 + line * (static_cast<double>(i) + 0.5);
    canvas.set_colour(detail::series_colour(shown[i]->colour));
    cairo_set_line_width(cr, 2);
    if (shown[i]->dashed) {
      const double dash[] = {4, 3};
      cairo_set_dash(cr, dash, 2, 0);
    }
    cairo_move_to(cr, x + 5, row);
    cairo_line_to(cr, x + 5 + swatch - 4, row);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    canvas.set_colour(kChartInk);
    canvas.text(x + swatch + 8, row, canvas.fit_text(shown[i]->label, kChartFont - 1, 220), kChartFont - 1,
                Align{0, 0.5});
  }
}

void draw_series(Canvas& canvas, const Series& series, const PanelLayout& area) {
  auto* cr = canvas.cr();
  cairo_save(cr);
  cairo_rectangle(cr, area.left, area.top, area.width, area.height);
  cairo_clip(cr);
  canvas.set_colour(detail::series_colour(series.colour));
  cairo_set_line_width(cr, series.dashed ? 1.5 : 2.0);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  if (series.dashed) {
    const double dash[] = {5, 3};
    cairo_set_dash(cr, dash, 2, 0);
  }
  bool open = false;
  for (size_t i = 0; i < series.x.size(); ++i) {
    if (!std::isfinite(series.x[i]) || !std::isfinite(series.y[i])) {
      open = false;
      continue;
    }
    const double px = area.pixel_x(series.x[i]), py = area.pixel_y(series.y[i]);
    open ? cairo_line_to(cr, px, py) : cairo_move_to(cr, px, py);
    open = true;
  }
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
  if (series.dashed) {
    for (size_t i = 0; i < series.x.size(); ++i) {
      if (!std::isfinite(series.x[i]) || !std::isfinite(series.y[i])) continue;
      cairo_arc(cr, area.pixel_x(series.x[i]), area.pixel_y(series.y[i]), 3.0, 0, 2 * M_PI);
      cairo_fill(cr);
    }
  }
  cairo_restore(cr);
}

void draw_panel(Canvas& canvas, const Panel& panel, double cell_x, double cell_y, const ChartOptions& options,
                PanelLayout& area) {
  area.left = cell_x + kChartLeft;
  area.top = cell_y + kChartTop;
  area.width = options.panel_width() - kChartLeft - kChartRight;
  area.height = options.panel_height() - kChartTop - kChartBottom;
  Range xs, ys;
  for (const auto& s : panel.series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        xs.add(s.x[i]);
        ys.add(s.y[i]);
      }
    }
  }
  auto* cr = canvas.cr();
  canvas.set_colour(kChartInk);
  canvas.text(area.left + area.width / 2, cell_y + 6, canvas.fit_text(panel.title, kChartTitleFont, area.width),
              kChartTitleFont, Align{0.5, 0}, true);
  canvas.text(area.left + area.width / 2, area.top + area.height + kChartBottom - 4, panel.x_label, kChartFont,
              Align{0.5, 1});
  if (xs.empty()) {
    canvas.text(area.left + area.width / 2, area.top + area.height / 2, "no data", kChartFont, Align{0.5, 0.5});
    return;
  }
  const Ticks x_ticks = nice_ticks(xs.low, xs.high), y_ticks = nice_ticks(ys.low, ys.high);
  area.x_min = x_ticks.low;
  area.x_max = x_ticks.high;
  area.y_min = y_ticks.low;
  area.y_max = y_ticks.high;

  cairo_set_line_width(cr, 1);
  for (const double v : x_ticks.values) {
    const double px = std::round(area.pixel_x(v)) + 0.5;
    canvas.set_colour(kChartGrid);
    cairo_move_to(cr, px, area.top);
    cairo_line_to(cr, px, area.top + area.height);
    cairo_stroke(cr);
    canvas.set_colour(kChartInk);
    const double step = x_ticks.values.size() > 1 ? x_ticks.values[1] - x_ticks.values[0] : 1.0;
    canvas.text(px, area.top + area.height + 4, tick_label(v, step), kChartFont - 1, Align{0.5, 0});
  }
  for (const double v : y_ticks.values) {
    const double py = std::round(area.pixel_y(v)) + 0.5;
    canvas.set_colour(kChartGrid);
    cairo_move_to(cr, area.left, py);
    cairo_line_to(cr, area.left + area.width, py);
    cairo_stroke(cr);
    canvas.set_colour(kChartInk);
    const double step = y_ticks.values.size() > 1 ? y_ticks.values[1] - y_ticks.values[0] : 1.0;
    canvas.text(area.left - 5, py, tick_label(v, step), kChartFont - 1, Align{1, 0.5});
  }
  canvas.set_colour(kChartInk);
  cairo_rectangle(cr, area.left + 0.5, area.top + 0.5, area.width - 1, area.height - 1);
  cairo_stroke(cr);
  for (const auto& s : panel.series) draw_series(canvas, s, area);
  draw_legend(canvas, panel, area);
}

}  // namespace

bool is_picture_path(const std::string& path) {
  try {
    detail::format_of(path);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

Ticks nice_ticks(double low, double high, int target) {
  if (!(low <= high) || !std::isfinite(low) || !std::isfinite(high)) {
    throw std::invalid_argument(fmt::format("an axis from {} to {}: expected finite bounds, low <= high", low, high));
  }
  if (high - low <= std::max(std::abs(high), std::abs(low)) * 1e-12) {  // one value: a unit-wide range around it
    const double pad = low == 0.0 ? 1.0 : std::abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  const double raw = (high - low) / std::max(target, 1);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power * 10;
  for (const double m : {1.0, 2.0, 5.0}) {
    if (power * m >= raw) {
      step = power * m;
      break;
    }
  }
  Ticks ticks;
  ticks.low = std::floor(low / step + 1e-9) * step;
  ticks.high = std::ceil(high / step - 1e-9) * step;
  for (double v = ticks.low; v <= ticks.high + step * 1e-6; v += step)
    ticks.values.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return ticks;
}

ChartLayout draw_chart(const std::vector<Panel>& panels, const ChartOptions& options, const std::string& path) {
  for (const auto& panel : panels) {
    for (const auto& s : panel.series) {
      if (s.x.size() != s.y.size()) {
        throw std::invalid_argument(fmt::format("panel '{}', series '{}': {} x values but {} y values", panel.title,
                                                s.label, s.x.size(), s.y.size()));
      }
    }
  }
  const int count = std::max<int>(1, static_cast<int>(panels.size()));
  const int columns = std::clamp(options.columns(), 1, count);
  const int rows = (count + columns - 1) / columns;
  const double title_height = options.title().empty() ? 0 : 30;
  ChartLayout layout;
  layout.width = columns * options.panel_width();
  layout.height = rows * options.panel_height() + static_cast<int>(title_height);
  Canvas canvas(detail::format_of(path), layout.width, layout.height);
  if (!options.title().empty()) {
    canvas.set_colour(kChartInk);
    canvas.text(layout.width / 2.0, 8, canvas.fit_text(options.title(), kChartTitleFont + 2, layout.width - 16.0, true),
                kChartTitleFont + 2, Align{0.5, 0}, true);
  }
  layout.panels.resize(panels.size());
  for (size_t i = 0; i < panels.size(); ++i) {
    const double x = static_cast<double>(i % columns) * options.panel_width();
    const double y = title_height + static_cast<double>(i / columns) * options.panel_height();
    draw_panel(canvas, panels[i], x, y, options, layout.panels[i]);
  }
  canvas.save(path, "chart");
  return layout;
}

}  // namespace torchzoo::viz
