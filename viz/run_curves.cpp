#include "torchzoo/viz/run_curves.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "torchzoo/common/format.h"

namespace torchzoo::viz {
namespace {

namespace fs = std::filesystem;

/// What one run logged: series by name ("loss", "lr", "valid_loss", ...), each as (step, value).
using Curves = std::map<std::string, std::pair<std::vector<double>, std::vector<double>>>;

Curves read_curves(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read the metrics log (no such file?)", path));
  Curves curves;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded() || !record.is_object()) {
      if (in.eof()) continue;  // a torn last line (no newline after it): the run was killed while writing it
      throw std::runtime_error(
          fmt::format("{}:{}: expected one JSON object per line, got '{}'", path, number, common::excerpt(line, 80)));
    }
    const auto event = record.value("event", std::string());
    const auto step = record.find("step");
    if (step == record.end() || !step->is_number()) continue;
    const auto add = [&](const std::string& name, const nlohmann::json& value) {
      if (!value.is_number()) return;
      auto& [xs, ys] = curves[name];
      xs.push_back(step->get<double>());
      ys.push_back(value.get<double>());
    };
    if (event == "step") {
      for (const char* name : {"loss", "lr"}) {
        if (record.contains(name)) add(name, record[name]);
      }
    } else if (event == "eval" || event == "epoch") {
      for (const auto& [name, value] : record.items()) {
        if (name.rfind("valid_", 0) == 0 || name.rfind("ema_valid_", 0) == 0) add(name, value);
      }
      if (record.contains("train_loss")) add("eval_train_loss", record["train_loss"]);
    }
  }
  return curves;
}

Series series_of(const Curves& curves, const std::string& name, const std::string& label, size_t colour, bool dashed) {
  Series series{label, {}, {}, colour, dashed};
  if (auto it = curves.find(name); it != curves.end()) {
    series.x = it->second.first;
    series.y = it->second.second;
  }
  return series;
}

}  // namespace

std::vector<Panel> run_curve_panels(const std::vector<std::string>& metrics_paths,
                                    const std::vector<std::string>& labels) {
  if (metrics_paths.size() != labels.size()) {
    throw std::invalid_argument(fmt::format("{} metrics logs but {} labels", metrics_paths.size(), labels.size()));
  }
  std::vector<Curves> runs;
  for (const auto& path : metrics_paths) runs.push_back(read_curves(path));
  const bool several = runs.size() > 1;
  const auto name_for = [&](size_t run, const std::string& what) {
    return several ? labels[run] + (what.empty() ? "" : " " + what) : what;
  };

  Panel loss{"loss", "step", {}}, lr{"learning rate", "step", {}};
  std::vector<std::string> metrics;  // validation metrics other than the loss, in first-seen order
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto& curves = runs[r];
    // Progress records give the training loss; without them (log_every 0), the evaluations' train_loss.
    const bool has_steps = curves.count("loss") > 0;
    loss.series.push_back(series_of(curves, has_steps ? "loss" : "eval_train_loss", name_for(r, "train"), r, false));
    if (curves.count("valid_loss"))
      loss.series.push_back(series_of(curves, "valid_loss", name_for(r, "valid"), r, true));
    lr.series.push_back(series_of(curves, "lr", several ? labels[r] : "", r, false));
    for (const auto& [name, values] : curves) {
      if (name.rfind("valid_", 0) == 0 && name != "valid_loss" &&
          std::find(metrics.begin(), metrics.end(), name) == metrics.end()) {
        metrics.push_back(name);
      }
    }
  }
  std::vector<Panel> panels{loss, lr};
  for (const auto& metric : metrics) {
    Panel panel{"valid " + metric.substr(6), "step", {}};
    for (size_t r = 0; r < runs.size(); ++r) {
      if (runs[r].count(metric)) panel.series.push_back(series_of(runs[r], metric, several ? labels[r] : "", r, false));
      if (runs[r].count("ema_" + metric))
        panel.series.push_back(series_of(runs[r], "ema_" + metric, name_for(r, "EMA"), r, true));
    }
    panels.push_back(panel);
  }
  return panels;
}

ChartLayout plot_runs(const std::vector<std::string>& run_dirs, const std::string& path, const ChartOptions& options) {
  if (run_dirs.empty()) throw std::invalid_argument("plot_runs: expected at least one run folder");
  if (!is_picture_path(path)) throw std::invalid_argument(path + ": expected a picture path ending in .png or .svg");
  std::vector<std::string> paths, labels;
  for (const auto& dir : run_dirs) {
    const fs::path folder(dir);
    paths.push_back((folder / "metrics.jsonl").string());
    auto label = (folder.has_filename() ? folder.filename() : folder.parent_path().filename()).string();
    if (label.empty() || label == ".")
      label = fs::absolute(folder).lexically_normal().parent_path().filename().string();
    const std::string base = label;
    for (int n = 2; std::find(labels.begin(), labels.end(), label) != labels.end(); ++n)
      label = fmt::format("{} ({})", base, n);
    labels.push_back(label);
  }
  return draw_chart(run_curve_panels(paths, labels), options, path);
}

}  // namespace torchzoo::viz
