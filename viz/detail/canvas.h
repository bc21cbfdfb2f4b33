#pragma once
// A cairo drawing surface that becomes a PNG or an SVG file, chosen by the path's
// extension, and the text and colour helpers every picture in viz/ uses. Private
// to viz/ (not installed): cairo stays out of the public headers.
#include <cairo.h>

#include <string>
#include <string_view>

namespace torchzoo::viz::detail {

enum class Format { png, svg };

/// The format `path` asks for: ".png" or ".svg" (any case); anything else throws naming the path.
Format format_of(const std::string& path);

struct Rgb {
  double r = 0, g = 0, b = 0;
};

/// The i-th colour of matplotlib's "tab10" cycle (it repeats after ten).
Rgb series_colour(size_t i);
/// The viridis colour map at t in [0, 1] (clamped; NaN is grey).
Rgb viridis(double t);

/// Where text sits relative to its anchor point: 0 left/top, 0.5 centre, 1 right/bottom.
struct Align {
  double x = 0.0, y = 0.0;
};

/// A white canvas of width x height pixels (SVG: points). Text is drawn in DejaVu Sans, falling
/// back to cairo's default sans face; bytes that are not UTF-8 are shown as U+FFFD.
class Canvas {
 public:
  Canvas(Format format, int width, int height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  cairo_t* cr() const { return cr_; }
  int width() const { return width_; }
  int height() const { return height_; }

  void set_colour(const Rgb& colour, double alpha = 1.0);
  /// Text of `size` pixels at (x, y), aligned by `align`, rotated by `angle` radians about the anchor.
  void text(double x, double y, std::string_view text, double size, Align align = {}, bool bold = false,
            double angle = 0.0);
  /// The width `text` takes at `size`.
  double text_width(std::string_view text, double size, bool bold = false);
  /// `text` shortened with "…" to at most `width` pixels at `size`.
  std::string fit_text(std::string_view text, double size, double width, bool bold = false);

  /// Finishes the picture and writes it to `path` crash-safely (common/atomic_write.h); `what`
  /// names the file's kind in errors. The canvas cannot be drawn on afterwards.
  void save(const std::string& path, std::string_view what);

 private:
  /// Throws if cairo reports an error on the context or the surface.
  void check(std::string_view doing) const;

  Format format_;
  int width_, height_;
  std::string svg_;  ///< the SVG stream's bytes, complete once the surface is finished
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

}  // namespace torchzoo::viz::detail
