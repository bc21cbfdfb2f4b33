// Pictures (viz/): a known metrics log plotted puts its curve pixels where the values say;
// heat-maps colour each cell by its value; attention over an image is hot where the map is;
// bad input gets an error naming what was wrong.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "../support/temp_dir.h"
#include "torchzoo/common/format.h"
#include "torchzoo/data/png.h"
#include "torchzoo/viz/attention_overlay.h"
#include "torchzoo/viz/heatmap.h"
#include "torchzoo/viz/line_chart.h"
#include "torchzoo/viz/run_curves.h"

using namespace torchzoo;
namespace fs = std::filesystem;

namespace {

struct Rgb {
  int r, g, b;
};

/// The picture as uint8 [H, W, 3].
torch::Tensor read_rgb(const fs::path& path) {
  return data::read_png(path.string(), 3).permute({1, 2, 0}).contiguous();
}

Rgb pixel(const torch::Tensor& image, double x, double y) {
  const auto p = image[static_cast<int64_t>(std::lround(y))][static_cast<int64_t>(std::lround(x))];
  return {p[0].item<int>(), p[1].item<int>(), p[2].item<int>()};
}

int distance(const Rgb& a, const Rgb& b) { return std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b); }

/// Whether a pixel within `radius` of (x, y) has colour `want` (lines are anti-aliased: their
/// centre pixel may be a blend, its neighbours not).
bool colour_near(const torch::Tensor& image, double x, double y, const Rgb& want, int radius = 2, int tolerance = 40) {
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      if (distance(pixel(image, x + dx, y + dy), want) <= tolerance) return true;
    }
  }
  return false;
}

/// The share of pixels in the box that are not white.
double inked(const torch::Tensor& image, double left, double top, double width, double height) {
  const auto box = image.slice(0, static_cast<int64_t>(top), static_cast<int64_t>(top + height))
                       .slice(1, static_cast<int64_t>(left), static_cast<int64_t>(left + width));
  return (box.to(torch::kInt).sum(2) < 3 * 250).to(torch::kFloat).mean().item<double>();
}

const Rgb kBlue{0x1f, 0x77, 0xb4}, kOrange{0xff, 0x7f, 0x0e};

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// A run whose training loss falls as 4 - 0.03 * step, evaluated every 25 steps.
std::string known_metrics(double offset = 0.0) {
  std::string log;
  for (int step = 5; step <= 100; step += 5) {
    log += fmt::format(R"({{"event": "step", "epoch": 1, "step": {}, "loss": {}, "lr": {}, "grad_norm": 1.0}})"
                       "\n",
                       step, 4.0 - 0.03 * step + offset, 1e-3 * step / 100.0);
  }
  for (int step = 25; step <= 100; step += 25) {
    log += fmt::format(
        R"({{"event": "eval", "epoch": 1, "step": {}, "train_loss": 1.0, "valid_loss": {}, "valid_accuracy": {}}})"
        "\n",
        step, 3.5 - 0.02 * step, 0.5 + 0.004 * step);
  }
  return log;
}

}  // namespace

TEST_CASE("nice_ticks: round steps covering the range", "[viz]") {
  const auto ticks = viz::nice_ticks(0.3, 9.3);
  CHECK(ticks.low == Approx(0.0));
  CHECK(ticks.high == Approx(10.0));
  REQUIRE(ticks.values.size() == 6);
  CHECK(ticks.values[1] == Approx(2.0));
  const auto small = viz::nice_ticks(0.00012, 0.00097);
  CHECK(small.values[1] - small.values[0] == Approx(2e-4));
  const auto single = viz::nice_ticks(3.0, 3.0);  // one value still gets an axis around it
  CHECK(single.low < 3.0);
  CHECK(single.high > 3.0);
  CHECK_THROWS_WITH(viz::nice_ticks(1.0, NAN), Catch::Contains("expected finite bounds"));
}

TEST_CASE("plot: a known metrics log puts its curve pixels where the values say", "[viz]") {
  const auto dir = testing::fresh_dir("plot_known");
  fs::create_directories(dir / "run");
  write_text(dir / "run" / "metrics.jsonl", known_metrics());
  const auto png = dir / "curves.png";
  const auto layout = viz::plot_runs({(dir / "run").string()}, png.string());
  const auto image = read_rgb(png);
  REQUIRE(image.size(1) == layout.width);
  REQUIRE(image.size(0) == layout.height);
  REQUIRE(layout.panels.size() == 3);  // loss, learning rate, valid accuracy

  const auto& loss = layout.panels[0];
  CHECK(loss.y_min <= 1.0);  // the ticks cover 1.0 ... 3.85 (training) and 1.5 ... 3.0 (validation)
  CHECK(loss.y_max >= 3.85);
  for (int step = 10; step <= 100; step += 15) {  // on the training line: the run's colour
    const double y = 4.0 - 0.03 * step;
    CAPTURE(step, loss.pixel_x(step), loss.pixel_y(y));
    CHECK(colour_near(image, loss.pixel_x(step), loss.pixel_y(y), kBlue));
  }
  // Away from any line (a third of the panel above the training curve at step 20): no curve colour.
  CHECK_FALSE(colour_near(image, loss.pixel_x(20), loss.pixel_y(4.0 - 0.03 * 20) - loss.height / 3, kBlue, 2, 60));
  // The validation loss's dots: same colour, at each evaluation.
  for (int step = 25; step <= 100; step += 25) {
    CHECK(colour_near(image, loss.pixel_x(step), loss.pixel_y(3.5 - 0.02 * step), kBlue, 1));
  }
  const auto& accuracy = layout.panels[2];
  for (int step = 25; step <= 100; step += 25) {
    CHECK(colour_near(image, accuracy.pixel_x(step), accuracy.pixel_y(0.5 + 0.004 * step), kBlue, 1));
  }
  // Each panel carries ink inside its plot area (the curve) and around it (ticks, labels, title).
  for (const auto& panel : layout.panels) {
    CHECK(inked(image, panel.left, panel.top, panel.width, panel.height) > 0.005);
    CHECK(inked(image, panel.left - 60, panel.top, 55, panel.height) > 0.002);  // tick labels
  }
}

TEST_CASE("plot: runs are overlaid in their own colours, and SVG too", "[viz]") {
  const auto dir = testing::fresh_dir("plot_overlay");
  for (const char* run : {"a", "b"}) fs::create_directories(dir / run);
  write_text(dir / "a" / "metrics.jsonl", known_metrics());
  write_text(dir / "b" / "metrics.jsonl", known_metrics(-1.0));
  const auto png = dir / "both.png";
  const auto layout = viz::plot_runs({(dir / "a").string(), (dir / "b").string()}, png.string());
  const auto image = read_rgb(png);
  const auto& loss = layout.panels[0];
  CHECK(colour_near(image, loss.pixel_x(20), loss.pixel_y(4.0 - 0.6), kBlue));    // a's training loss
  CHECK(colour_near(image, loss.pixel_x(20), loss.pixel_y(3.0 - 0.6), kOrange));  // b's, one lower

  const auto panels = viz::run_curve_panels(
      {(dir / "a" / "metrics.jsonl").string(), (dir / "b" / "metrics.jsonl").string()}, {"a", "b"});
  REQUIRE(panels[0].series.size() == 4);  // train and valid loss of each run, labelled
  CHECK(panels[0].series[0].label == "a train");
  CHECK(panels[0].series[3].label == "b valid");
  CHECK(panels[0].series[3].dashed);

  const auto svg = dir / "both.svg";
  viz::plot_runs({(dir / "a").string(), (dir / "b").string()}, svg.string());
  std::ifstream in(svg);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("<svg") != std::string::npos);
  CHECK(text.find("<path") != std::string::npos);
}

TEST_CASE("plot: bad input names the file and line, and a torn last line is skipped", "[viz]") {
  const auto dir = testing::fresh_dir("plot_bad");
  fs::create_directories(dir / "run");
  write_text(dir / "run" / "metrics.jsonl", known_metrics() + "{\"event\": \"step\", \"step\": 105, \"lo");
  CHECK_NOTHROW(viz::plot_runs({(dir / "run").string()}, (dir / "torn.png").string()));
  write_text(dir / "run" / "metrics.jsonl", known_metrics() + "not json\n" + known_metrics());
  CHECK_THROWS_WITH(viz::plot_runs({(dir / "run").string()}, (dir / "bad.png").string()),
                    Catch::Contains("metrics.jsonl:25: expected one JSON object per line"));
  CHECK_FALSE(fs::exists(dir / "bad.png"));
  CHECK_THROWS_WITH(viz::plot_runs({(dir / "none").string()}, (dir / "x.png").string()),
                    Catch::Contains("none/metrics.jsonl: cannot read"));
  CHECK_THROWS_WITH(viz::plot_runs({(dir / "run").string()}, (dir / "x.jpg").string()),
                    Catch::Contains("x.jpg: expected a picture path ending in .png or .svg"));
}

TEST_CASE("heat-map: each cell coloured by its value, labels beside", "[viz]") {
  const auto dir = testing::fresh_dir("heatmap");
  // 2 x 3 with one cell at the top of the scale and one at the bottom.
  viz::Heatmap map{"layer 1", 2, 3, {0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 0.1f}};
  viz::Heatmap other{"layer 2", 2, 3, {1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}};
  const auto png = dir / "map.png";
  const auto layout = viz::draw_heatmaps({map, other}, {"▁Das", "</s>"}, {"▁This", "▁is", "</s>"},
                                         viz::HeatmapOptions().cell(20), png.string());
  const auto image = read_rgb(png);
  REQUIRE(image.size(1) == layout.width);
  REQUIRE(layout.origins.size() == 2);
  const auto centre = [&](size_t i, int r, int c) {
    return pixel(image, layout.origins[i].first + (c + 0.5) * layout.cell,
                 layout.origins[i].second + (r + 0.5) * layout.cell);
  };
  const Rgb viridis_low{68, 1, 84}, viridis_high{253, 231, 37};
  CHECK(distance(centre(0, 0, 0), viridis_low) < 12);
  CHECK(distance(centre(0, 1, 1), viridis_high) < 12);
  CHECK(distance(centre(1, 0, 0), viridis_high) < 12);
  CHECK(distance(centre(1, 1, 2), viridis_low) < 12);
  const auto mid = centre(0, 0, 2);  // 0.5: viridis's green-blue middle
  CHECK(mid.g > mid.r);
  CHECK(distance(mid, viridis_low) > 100);
  CHECK(distance(mid, viridis_high) > 100);
  // Row labels to the left of the map, column labels above it.
  const auto [left, top] = layout.origins[0];
  CHECK(inked(image, left - 40, top, 38, 2 * layout.cell) > 0.02);
  CHECK(inked(image, left, top - 40, 3 * layout.cell, 38) > 0.02);

  CHECK_THROWS_WITH(viz::draw_heatmaps({map}, {"a"}, {"x", "y", "z"}, {}, (dir / "bad.png").string()),
                    Catch::Contains("expected 1 x 3 values"));
  // Bytes that are not UTF-8 are drawn as U+FFFD, not refused.
  CHECK_NOTHROW(viz::draw_heatmaps({map}, {"\xff\xfe", "b"}, {"x", "y", "\xc3"}, {}, (dir / "bytes.png").string()));
}

TEST_CASE("attention over an image: hot where the map is high", "[viz]") {
  const auto dir = testing::fresh_dir("overlay");
  viz::Image image{28, 28, 1, std::vector<float>(28 * 28, 0.5f)};
  std::vector<float> weights(7 * 7, 0.0f);
  weights[1 * 7 + 5] = 1.0f;  // patch row 1, column 5
  const auto png = dir / "overlay.png";
  const auto layout = viz::draw_attention_over_image(image, {{"class token", 7, 7, weights}},
                                                     viz::OverlayOptions().panel(112), png.string());
  const auto picture = read_rgb(png);
  REQUIRE(layout.origins.size() == 2);
  const double patch = layout.panel_width / 7;
  const auto [x, y] = layout.origins[1];
  const auto hot = pixel(picture, x + 5.5 * patch, y + 1.5 * patch);
  const auto cold = pixel(picture, x + 1.5 * patch, y + 5.5 * patch);
  CHECK(hot.r + hot.g > cold.r + cold.g + 150);  // yellow over grey against purple over grey
  const auto plain = pixel(picture, layout.origins[0].first + 20, layout.origins[0].second + 20);
  CHECK(distance(plain, {128, 128, 128}) < 6);  // the image itself, untouched
  CHECK_THROWS_WITH(viz::draw_attention_over_image({2, 2, 2, std::vector<float>(8)}, {}, {}, (dir / "x.png").string()),
                    Catch::Contains("expected height x width x (1 or 3)"));
}
