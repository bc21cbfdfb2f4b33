// torchzoo plot RUN_DIR [RUN_DIR...] -o curves.png|.svg: training and validation curves
// (loss, learning rate, each validation metric, by step) from the runs' metrics.jsonl,
// several runs overlaid and labelled by their folder names (viz/run_curves.h).
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/common/format.h"
#include "torchzoo/viz/run_curves.h"

namespace torchzoo::cli {
namespace {

struct PlotArgs {
  std::vector<std::string> run_dirs;
  std::string out = "curves.png";
  std::string title;
  int columns = 2;
};

int run_plot(const PlotArgs& args) {
  const auto layout =
      viz::plot_runs(args.run_dirs, args.out, viz::ChartOptions().columns(args.columns).title(args.title));
  std::cout << fmt::format("wrote {} ({}x{}, {} panels, {} run{})\n", args.out, layout.width, layout.height,
                           layout.panels.size(), args.run_dirs.size(), args.run_dirs.size() == 1 ? "" : "s");
  return 0;
}

}  // namespace

Command add_plot(CLI::App& app) {
  auto args = std::make_shared<PlotArgs>();
  auto* plot = app.add_subcommand("plot", "draw training and validation curves of runs (metrics.jsonl) to PNG or SVG");
  plot->add_option("RUN_DIR", args->run_dirs, "run folders, each holding metrics.jsonl")
      ->required()
      ->check(CLI::ExistingDirectory);
  plot->add_option("-o,--out", args->out, "the picture: .png or .svg")
      ->capture_default_str()
      ->check([](const std::string& path) {
        return viz::is_picture_path(path) ? std::string()
                                          : "expected a path ending in .png or .svg, got '" + path + "'";
      });
  plot->add_option("--title", args->title, "a title over the curves");
  plot->add_option("--columns", args->columns, "panels per row")->capture_default_str()->check(CLI::Range(1, 16));
  return {plot, [args] { return run_plot(*args); }};
}

}  // namespace torchzoo::cli
