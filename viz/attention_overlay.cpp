#include "torchzoo/viz/attention_overlay.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "torchzoo/common/format.h"
#include "torchzoo/viz/detail/canvas.h"

namespace torchzoo::viz {
namespace {

using detail::Align;
using detail::Canvas;

constexpr double kOverlayGap = 16, kOverlayTitleFont = 12;

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;

/// An image surface of width x height whose pixel (x, y) is colour(x, y) (r, g, b, a in [0, 1]).
template <typename Colour>
Surface make_surface(int64_t width, int64_t height, Colour colour) {
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(width), static_cast<int>(height)),
                  cairo_surface_destroy);
  cairo_surface_flush(surface.get());
  auto* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int64_t y = 0; y < height; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + y * stride);
    for (int64_t x = 0; x < width; ++x) {
      const std::array<double, 4> rgba = colour(x, y);
      const double alpha = rgba[3];
      const auto byte = [alpha](double v) {  // premultiplied by alpha, as cairo stores pixels
        return static_cast<uint32_t>(std::lround(std::clamp(v, 0.0, 1.0) * alpha * 255));
      };
      row[x] = (static_cast<uint32_t>(std::lround(alpha * 255)) << 24) | (byte(rgba[0]) << 16) | (byte(rgba[1]) << 8) |
               byte(rgba[2]);
    }
  }
  cairo_surface_mark_dirty(surface.get());
  return surface;
}

/// Paints `source` (of source_w x source_h pixels) scaled to the box at (x, y) of w x h.
void paint_scaled(cairo_t* cr, cairo_surface_t* source, double source_w, double source_h, double x, double y, double w,
                  double h, cairo_filter_t filter, double alpha) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, w / source_w, h / source_h);
  cairo_set_source_surface(cr, source, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), filter);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_rectangle(cr, 0, 0, source_w, source_h);
  cairo_clip(cr);
  cairo_paint_with_alpha(cr, alpha);
  cairo_restore(cr);
}

}  // namespace

OverlayLayout draw_attention_over_image(const Image& image, const std::vector<Heatmap>& maps,
                                        const OverlayOptions& options, const std::string& path) {
  if (image.height <= 0 || image.width <= 0 || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() != static_cast<size_t>(image.height * image.width * image.channels)) {
    throw std::invalid_argument(fmt::format("an image of {}x{}x{} with {} values: expected height x width x (1 or 3)",
                                            image.height, image.width, image.channels, image.pixels.size()));
  }
  for (const auto& map : maps) {
    if (map.rows <= 0 || map.cols <= 0 || map.values.size() != static_cast<size_t>(map.rows * map.cols)) {
      throw std::invalid_argument(
          fmt::format("map '{}': expected {} x {} values, got {}", map.title, map.rows, map.cols, map.values.size()));
    }
  }
  OverlayLayout layout;
  const double longer = static_cast<double>(std::max(image.height, image.width));
  layout.panel_width = options.panel() * image.width / longer;
  layout.panel_height = options.panel() * image.height / longer;
  const int panels = static_cast<int>(maps.size()) + 1;
  const int columns = std::clamp(options.columns(), 1, panels);
  const int rows = (panels + columns - 1) / columns;
  const double title_h = options.title().empty() ? 0 : 28;
  const double cell_w = layout.panel_width + kOverlayGap,
               cell_h = layout.panel_height + kOverlayTitleFont + 10 + kOverlayGap;
  layout.width = static_cast<int>(std::ceil(kOverlayGap + columns * cell_w));
  layout.height = static_cast<int>(std::ceil(title_h + kOverlayGap + rows * cell_h));

  const auto pixel = [&](int64_t x, int64_t y, int64_t c) {
    return static_cast<double>(image.pixels[(y * image.width + x) * image.channels + c]);
  };
  const auto colour = make_surface(image.width, image.height, [&](int64_t x, int64_t y) {
    const int64_t last = image.channels - 1;
    return std::array<double, 4>{pixel(x, y, 0), pixel(x, y, std::min<int64_t>(1, last)), pixel(x, y, last), 1.0};
  });
  const auto grey = make_surface(image.width, image.height, [&](int64_t x, int64_t y) {
    double v = 0;
    for (int64_t c = 0; c < image.channels; ++c) v += pixel(x, y, c);
    v /= static_cast<double>(image.channels);
    return std::array<double, 4>{v, v, v, 1.0};
  });

  Canvas canvas(detail::format_of(path), layout.width, layout.height);
  auto* cr = canvas.cr();
  const detail::Rgb ink{0.15, 0.15, 0.15};
  if (!options.title().empty()) {
    canvas.set_colour(ink);
    canvas.text(layout.width / 2.0, 6,
                canvas.fit_text(options.title(), kOverlayTitleFont + 2, layout.width - 16.0, true),
                kOverlayTitleFont + 2, Align{0.5, 0}, true);
  }
  for (int i = 0; i < panels; ++i) {
    const double x = kOverlayGap + (i % columns) * cell_w, y = title_h + kOverlayGap + (i / columns) * cell_h;
    const double top = y + kOverlayTitleFont + 8;
    layout.origins.emplace_back(x, top);
    canvas.set_colour(ink);
    const std::string title = i == 0 ? "image" : maps[i - 1].title;
    canvas.text(x + layout.panel_width / 2, y, canvas.fit_text(title, kOverlayTitleFont, cell_w), kOverlayTitleFont,
                Align{0.5, 0});
    if (i == 0) {
      paint_scaled(cr, colour.get(), image.width, image.height, x, top, layout.panel_width, layout.panel_height,
                   CAIRO_FILTER_NEAREST, 1.0);
      continue;
    }
    const auto& map = maps[i - 1];
    const auto extremes = std::minmax_element(map.values.begin(), map.values.end());
    const double low = *extremes.first, span = std::max(1e-12, static_cast<double>(*extremes.second) - low);
    const auto heat = make_surface(map.cols, map.rows, [&](int64_t c, int64_t r) {
      const auto rgb = detail::viridis((map.values[r * map.cols + c] - low) / span);
      return std::array<double, 4>{rgb.r, rgb.g, rgb.b, 1.0};
    });
    paint_scaled(cr, grey.get(), image.width, image.height, x, top, layout.panel_width, layout.panel_height,
                 CAIRO_FILTER_NEAREST, 1.0);
    paint_scaled(cr, heat.get(), map.cols, map.rows, x, top, layout.panel_width, layout.panel_height,
                 CAIRO_FILTER_BILINEAR, options.alpha());
  }
  canvas.save(path, "attention picture");
  return layout;
}

}  // namespace torchzoo::viz
