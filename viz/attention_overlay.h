#pragma once
// Attention over an image: the image itself, then one panel per map, each the
// image in grey under its map (a patch grid, smoothly enlarged to the image and
// coloured with viridis from the map's own low to its high value). For the ViT's
// class-token attention and the attention rollout (Abnar & Zuidema, 2020).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "torchzoo/viz/heatmap.h"

namespace torchzoo::viz {

/// Pixels in [0, 1], row-major height x width x channels (1: grey, 3: RGB).
struct Image {
  int64_t height = 0, width = 0, channels = 1;
  std::vector<float> pixels;
};

/// How draw_attention_over_image draws.
struct OverlayOptions {
  /// Pixels of each panel's longer side (the image is enlarged to it).
  TORCH_ARG(int, panel) = 224;
  /// Panels per row.
  TORCH_ARG(int, columns) = 4;
  /// Opacity of the maps over the image.
  TORCH_ARG(double, alpha) = 0.6;
  /// A title over the picture (empty: none).
  TORCH_ARG(std::string, title) = "";
};

/// Where each panel went: (left, top) and its size in pixels; panel 0 is the image.
struct OverlayLayout {
  int width = 0, height = 0;
  double panel_width = 0, panel_height = 0;
  std::vector<std::pair<double, double>> origins;
};

/// Draws `image` and `maps` over it into `path` (.png or .svg).
///
/// Example:
///   viz::draw_attention_over_image(image, {{"class token, mean of heads", 7, 7, weights}}, {}, "map.png");
OverlayLayout draw_attention_over_image(const Image& image, const std::vector<Heatmap>& maps,
                                        const OverlayOptions& options, const std::string& path);

}  // namespace torchzoo::viz
