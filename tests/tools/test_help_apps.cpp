#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "../support/help_pages.h"
#include "../support/temp_dir.h"
#include "torchzoo/data/labeled_text.h"
#include "torchzoo/tools/help_apps.h"
#include "torchzoo/tools/libreoffice_help.h"

using namespace torchzoo::data;
using namespace torchzoo::tools;
using torchzoo::testing::fresh_dir;
using torchzoo::testing::help_page;
using torchzoo::testing::help_write_file;

TEST_CASE("A help page's application is its module folder", "[data][help_apps]") {
  CHECK(help_app_of("text/swriter/guide/x.html") == "Writer");
  CHECK(help_app_of("text/scalc/01/04060101.html") == "Calc");
  CHECK(help_app_of("text/sdatabase/main.html") == "Base");
  CHECK(help_app_of("text/sbasic/shared/03/lib.html") == "Basic");
  CHECK(help_app_of("text/shared/01/about.html") == "shared");
  CHECK(help_app_of("text/schart/main0000.html").empty());  // charts are left out
  CHECK(help_app_of("noscript.html").empty());
  CHECK(help_app_of("text/swriter.html").empty());
}

TEST_CASE("build_help_apps labels by module, filters, drops texts of several applications and splits by hash",
          "[data][help_apps]") {
  const auto dir = fresh_dir("help_apps");
  const auto tree = dir / "en-US";
  torchzoo::testing::HelpParagraphs writer = {
      {"a", ""}, {"b", std::string(401, 'x')}, {"c", "Click OK."}, {"d", "Writer twice"}, {"e", "Writer twice"}};
  torchzoo::testing::HelpParagraphs calc = {{"c", "Click OK."}};
  for (int i = 0; i < 60; ++i) {
    writer.push_back({"w" + std::to_string(i), "Writer text " + std::to_string(i)});
    calc.push_back({"k" + std::to_string(i), "Calc text " + std::to_string(i)});
  }
  help_write_file(tree / "text/swriter/p.html", help_page(writer));
  help_write_file(tree / "text/scalc/p.html", help_page(calc));
  help_write_file(tree / "text/schart/p.html", help_page({{"z", "Chart text"}}));
  HelpAppsCounts counts;
  const auto splits = build_help_apps(tree.string(), HelpAppsOptions().valid_fraction(0.2).test_fraction(0.2), &counts);
  // Each page's chrome adds one empty paragraph (the debug footer's bm_module).
  CHECK(counts.paragraphs == 5 + 60 + 1 + 60 + 1 + 3);
  CHECK(counts.other == 2);  // the chart page's two
  CHECK(counts.empty == 1 + 2);
  CHECK(counts.long_ == 1);
  CHECK(counts.repeated == 1);
  CHECK(counts.ambiguous == 2);  // "Click OK." in Writer and in Calc
  int64_t kept = 0;
  for (const auto* split : {&splits.train, &splits.valid, &splits.test}) kept += static_cast<int64_t>(split->size());
  CHECK(kept == 61 + 60);  // "Writer twice" once, and the 60 texts of each
  std::map<std::string, std::string> label_of;
  for (const auto* split : {&splits.train, &splits.valid, &splits.test}) {
    for (const auto& e : *split) {
      CHECK(label_of.emplace(e.text, e.label).second);  // every text in one split, once
      CHECK(e.label == (e.text.rfind("Writer", 0) == 0 ? "Writer" : "Calc"));
    }
  }
  CHECK(!splits.valid.empty());
  CHECK(!splits.test.empty());
  CHECK(counts.train.at("Writer") + counts.valid.at("Writer") + counts.test.at("Writer") == 61);
  CHECK_THAT(to_string(counts), Catch::Contains("class Calc: train "));

  const auto cache = dir / "cache";
  torchzoo::testing::put_in_help_cache(tree, cache, help_package_name("en-US"), "en-US");
  const auto out = dir / "out";
  const auto written = prepare_help_apps(
      HelpAppsOptions().cache_dir(cache.string()).valid_fraction(0.2).test_fraction(0.2), out.string());
  CHECK(read_labeled_tsv((out / "train.tsv").string()).size() ==
        static_cast<size_t>(written.train.at("Calc") + written.train.at("Writer")));
  CHECK(std::filesystem::exists(out / "counts.txt"));
  std::filesystem::remove_all(dir);
}
