#include "torchzoo/viz/detail/canvas.h"

#include <cairo-svg.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/format.h"
#include "torchzoo/common/utf8.h"

namespace torchzoo::viz::detail {
namespace {

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

/// `text` with every invalid UTF-8 sequence replaced by U+FFFD (cairo refuses invalid text).
std::string valid_utf8(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const size_t bad = common::find_invalid_utf8(text);
    if (bad == std::string_view::npos) {
      out += text;
      break;
    }
    out += text.substr(0, bad);
    out += "\xEF\xBF\xBD";
    text.remove_prefix(bad + 1);
  }
  return out;
}

}  // namespace

Format format_of(const std::string& path) {
  const auto dot = path.rfind('.');
  std::string extension = dot == std::string::npos ? "" : path.substr(dot + 1);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (extension == "png") return Format::png;
  if (extension == "svg") return Format::svg;
  throw std::invalid_argument(fmt::format("{}: expected a picture path ending in .png or .svg", path));
}

Rgb series_colour(size_t i) {
  static constexpr std::array<uint32_t, 10> tab10 = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                                     0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
  const uint32_t rgb = tab10[i % tab10.size()];
  return {((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0};
}

Rgb viridis(double t) {
  if (std::isnan(t)) return {0.6, 0.6, 0.6};
  // viridis sampled at 0, 1/8, ..., 1 (matplotlib's table), linearly interpolated between.
  static constexpr std::array<std::array<double, 3>, 9> stops = {{{0.267, 0.005, 0.329},
                                                                  {0.279, 0.175, 0.483},
                                                                  {0.230, 0.322, 0.546},
                                                                  {0.173, 0.449, 0.558},
                                                                  {0.128, 0.567, 0.551},
                                                                  {0.153, 0.683, 0.502},
                                                                  {0.369, 0.789, 0.383},
                                                                  {0.678, 0.864, 0.190},
                                                                  {0.993, 0.906, 0.144}}};
  const double position = std::clamp(t, 0.0, 1.0) * (stops.size() - 1);
  const size_t low = std::min(static_cast<size_t>(position), stops.size() - 2);
  const double f = position - static_cast<double>(low);
  const auto mix = [&](int c) { return stops[low][c] * (1 - f) + stops[low + 1][c] * f; };
  return {mix(0), mix(1), mix(2)};
}

Canvas::Canvas(Format format, int width, int height) : format_(format), width_(width), height_(height) {
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) {
    throw std::invalid_argument(fmt::format("a picture of {}x{} pixels: expected 1 to 16384 each way", width, height));
  }
  surface_ = format == Format::png ? cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height)
                                   : cairo_svg_surface_create_for_stream(append_to_string, &svg_, width, height);
  cr_ = cairo_create(surface_);
  check("creating the canvas");
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
}

Canvas::~Canvas() {
  if (cr_) cairo_destroy(cr_);
  if (surface_) cairo_surface_destroy(surface_);
}

void Canvas::check(std::string_view doing) const {
  cairo_status_t status = cairo_surface_status(surface_);
  if (status == CAIRO_STATUS_SUCCESS && cr_) status = cairo_status(cr_);
  if (status != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error(fmt::format("cairo failed {}: {}", doing, cairo_status_to_string(status)));
  }
}

void Canvas::set_colour(const Rgb& colour, double alpha) {
  cairo_set_source_rgba(cr_, colour.r, colour.g, colour.b, alpha);
}

double Canvas::text_width(std::string_view text, double size, bool bold) {
  cairo_select_font_face(cr_, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr_, valid_utf8(text).c_str(), &extents);
  return extents.x_advance;
}

std::string Canvas::fit_text(std::string_view text, double size, double width, bool bold) {
  std::string shown = valid_utf8(text);
  if (text_width(shown, size, bold) <= width) return shown;
  // Drop whole characters (never half a UTF-8 sequence) until the text and the ellipsis fit.
  while (!shown.empty()) {
    do shown.pop_back();
    while (!shown.empty() && (static_cast<unsigned char>(shown.back()) & 0xC0) == 0x80);
    if (!shown.empty()) shown.pop_back();
    if (text_width(shown + "\xE2\x80\xA6", size, bold) <= width) return shown + "\xE2\x80\xA6";
  }
  return shown;
}

void Canvas::text(double x, double y, std::string_view text, double size, Align align, bool bold, double angle) {
  const std::string shown = valid_utf8(text);
  cairo_select_font_face(cr_, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
  cairo_font_extents_t font;
  cairo_font_extents(cr_, &font);
  cairo_text_extents_t extents;
  cairo_text_extents(cr_, shown.c_str(), &extents);
  cairo_save(cr_);
  cairo_translate(cr_, x, y);
  cairo_rotate(cr_, angle);
  // Align by the advance width and the font's ascent + descent, so that labels line up whatever their glyphs.
  const double height = font.ascent + font.descent;
  cairo_move_to(cr_, -align.x * extents.x_advance, -align.y * height + font.ascent);
  cairo_show_text(cr_, shown.c_str());
  cairo_restore(cr_);
}

void Canvas::save(const std::string& path, std::string_view what) {
  check("drawing");
  if (format_ == Format::png) {
    std::string png;
    cairo_surface_flush(surface_);
    const auto status = cairo_surface_write_to_png_stream(surface_, append_to_string, &png);
    if (status != CAIRO_STATUS_SUCCESS) {
      throw std::runtime_error(
          fmt::format("{}: cairo failed encoding the PNG: {}", path, cairo_status_to_string(status)));
    }
    common::write_file_atomically(path, png, what);
  } else {
    cairo_destroy(cr_);
    cr_ = nullptr;
    cairo_surface_finish(surface_);  // flushes the SVG into svg_
    check("finishing the SVG");
    common::write_file_atomically(path, svg_, what);
  }
}

}  // namespace torchzoo::viz::detail
