// torchzoo attention --checkpoint CKPT INPUT -o map.png|.svg [--heads [--layer L]]: what a
// trained model attended to for one input, drawn (viz/):
//   translation          the cross-attention of the translation it makes: target tokens down the
//                        side, source tokens along the top; one map per layer (mean of its heads)
//                        and their mean, or with --heads each head of one layer
//   image classification the class token's attention over the image, per layer (or head), and
//                        the attention rollout through all layers
//   text classification  the class token's attention over the tokens, a row per layer (or head)
//                        and one for the rollout
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/format.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/viz/attention_overlay.h"
#include "torchzoo/viz/heatmap.h"
#include "torchzoo/viz/line_chart.h"

namespace torchzoo::cli {
namespace {

struct AttentionArgs {
  std::string checkpoint, device, out = "attention.png";
  families::AttentionRequest request;
};

/// Map i of `maps` [n, rows, cols] as a viz heat-map.
viz::Heatmap heatmap_of(const torch::Tensor& maps, int64_t i, const std::string& title) {
  const auto map = maps[i].contiguous();
  return {title, map.size(0), map.size(1),
          std::vector<float>(map.data_ptr<float>(), map.data_ptr<float>() + map.numel())};
}

int run_attention(const AttentionArgs& args) {
  auto config = checkpoint_config(args.checkpoint);
  const auto device = device_of(config, args.device);
  auto model = families::load_trained(config, args.checkpoint, device);
  torch::NoGradGuard no_grad;
  const auto view = model->attention(config, args.request);
  const auto maps = view.maps.to(torch::kCPU, torch::kFloat).contiguous();
  std::vector<viz::Heatmap> heatmaps;
  for (int64_t i = 0; i < maps.size(0); ++i)
    heatmaps.push_back(heatmap_of(maps, i, view.map_titles.at(static_cast<size_t>(i))));
  if (view.image.defined()) {
    const auto image = view.image.permute({1, 2, 0}).contiguous();  // [H, W, C]
    viz::Image picture{image.size(0), image.size(1), image.size(2),
                       std::vector<float>(image.data_ptr<float>(), image.data_ptr<float>() + image.numel())};
    viz::draw_attention_over_image(picture, heatmaps, viz::OverlayOptions().title(view.title), args.out);
  } else {
    const int columns = heatmaps.size() > 4 ? 3 : static_cast<int>(heatmaps.size());
    viz::draw_heatmaps(heatmaps, view.row_labels, view.col_labels,
                       viz::HeatmapOptions().title(view.title).columns(columns), args.out);
  }
  std::cout << fmt::format("{}\nwrote {} ({} map{})\n", view.title, args.out, heatmaps.size(),
                           heatmaps.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace

Command add_attention(CLI::App& app) {
  auto args = std::make_shared<AttentionArgs>();
  auto* attention = app.add_subcommand("attention", "draw what a trained model attended to for one input");
  attention->add_option("--checkpoint", args->checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  attention
      ->add_option("INPUT", args->request.input,
                   "a sentence (translation, text classification), or an image: a PNG file or IDX_FILE:INDEX")
      ->required();
  attention->add_option("-o,--out", args->out, "the picture: .png or .svg")
      ->capture_default_str()
      ->check([](const std::string& path) {
        return viz::is_picture_path(path) ? std::string()
                                          : "expected a path ending in .png or .svg, got '" + path + "'";
      });
  auto* heads = attention->add_flag("--heads", args->request.heads,
                                    "each head of one layer (--layer) instead of each layer's mean");
  attention->add_option("--layer", args->request.layer, "with --heads: the layer, from 0 (default: the last)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000}))
      ->needs(heads);
  add_decoding_options(attention, args->request.decoding);
  add_device_option(attention, args->device);
  return {attention, [args] { return run_attention(*args); }};
}

}  // namespace torchzoo::cli
