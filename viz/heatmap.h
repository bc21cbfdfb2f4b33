#pragma once
// Heat-maps of matrices that share their row and column labels -- attention
// weights per layer or head, with target tokens down the side and source tokens
// along the top -- drawn side by side with one colour scale (viridis, from 0 to
// the largest value of all maps) and a colour bar, into a PNG or an SVG.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>

namespace torchzoo::viz {

/// A rows x cols matrix of values, row-major.
struct Heatmap {
  std::string title;
  int64_t rows = 0, cols = 0;
  std::vector<float> values;
};

/// How draw_heatmaps draws.
struct HeatmapOptions {
  /// Pixels per cell; 0 picks one so that a map is about 480 pixels across (8 to 32 per cell).
  TORCH_ARG(int, cell) = 0;
  /// Maps per row of the picture.
  TORCH_ARG(int, columns) = 3;
  /// A title over the picture (empty: none).
  TORCH_ARG(std::string, title) = "";
  /// The colour scale's low end; its high end is the largest value of all maps (at least low + 1e-6).
  TORCH_ARG(double, scale_min) = 0.0;
};

/// Where each map's cells went: cell (r, c) of map i covers
/// [left + c * cell, left + (c + 1) * cell) x [top + r * cell, top + (r + 1) * cell).
struct HeatmapLayout {
  int width = 0, height = 0;
  double cell = 0;
  std::vector<std::pair<double, double>> origins;  ///< (left, top) of each map
  double scale_max = 0;                            ///< the colour scale's high end
};

/// Draws `maps` (all rows x cols, as many row and column labels) into `path` (.png or .svg).
/// Labels longer than the room for them are cut with "…". Throws std::invalid_argument when
/// the maps' shapes or the label counts disagree.
///
/// Example:
///   viz::Heatmap mean{"mean of 8 heads", 3, 4, weights};  // 3 target x 4 source tokens
///   viz::draw_heatmaps({mean}, {"▁Das", "▁ist", "</s>"}, {"▁This", "▁is", "!", "</s>"}, {}, "map.png");
HeatmapLayout draw_heatmaps(const std::vector<Heatmap>& maps, const std::vector<std::string>& row_labels,
                            const std::vector<std::string>& col_labels, const HeatmapOptions& options,
                            const std::string& path);

}  // namespace torchzoo::viz
