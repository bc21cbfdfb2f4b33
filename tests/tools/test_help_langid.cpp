#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../support/help_pages.h"
#include "../support/temp_dir.h"
#include "torchzoo/tools/help_langid.h"
#include "torchzoo/data/labeled_text.h"
#include "torchzoo/tools/libreoffice_help.h"

using namespace torchzoo::data;
using namespace torchzoo::tools;
using torchzoo::testing::fresh_dir;
using torchzoo::testing::help_page;
using torchzoo::testing::help_write_file;

namespace {

/// Help trees en-US (the reference), de, fr and es under `dir`. Each language has `unique` texts
/// of its own ("<lang> text i"), plus one empty paragraph, one over 400 characters, one left in
/// English, one repeated, and one text shared with another language.
void write_langid_trees(const std::filesystem::path& dir, int unique) {
  help_write_file(dir / "en-US/text/p.html", help_page({{"e1", "Click OK."}, {"e2", "Basic IDE"}}));
  for (const std::string lang : {"de", "fr", "es"}) {
    torchzoo::testing::HelpParagraphs paragraphs = {
        {"a", ""}, {"b", std::string(401, 'x')}, {"c", "Click OK."}, {"d", lang + " twice"}, {"e", lang + " twice"}};
    if (lang != "es") paragraphs.push_back({"f", "Excel 2007"});  // in de and fr
    for (int i = 0; i < unique; ++i)
      paragraphs.push_back({"u" + std::to_string(i), lang + " text " + std::to_string(i)});
    help_write_file(dir / lang / "text/p.html", help_page(paragraphs));
  }
}

std::vector<std::string> trees(const std::filesystem::path& dir) {
  return {(dir / "de").string(), (dir / "fr").string(), (dir / "es").string()};
}

}  // namespace

TEST_CASE("build_help_langid filters, drops shared texts, splits by hash and balances", "[data][langid]") {
  const auto dir = fresh_dir("help_langid");
  write_langid_trees(dir, 200);
  const auto options = HelpLangIdOptions().languages({"de", "fr", "es"}).valid_fraction(0.1).test_fraction(0.1);
  HelpLangIdCounts counts;
  const auto splits = build_help_langid(trees(dir), (dir / "en-US").string(), options, &counts);

  REQUIRE(counts.languages.size() == 3);
  for (const auto& l : counts.languages) {
    INFO(l.name);
    // Each page also holds the generator's empty footer paragraph (bm_module).
    CHECK(l.paragraphs == 206 + (l.name == "es" ? 0 : 1));
    CHECK(l.empty == 2);
    CHECK(l.long_ == 1);
    CHECK(l.untranslated == 1);
    CHECK(l.repeated == 1);
    CHECK(l.shared == (l.name == "es" ? 0 : 1));
    // Every paragraph is counted once.
    CHECK(l.paragraphs ==
          l.empty + l.long_ + l.untranslated + l.repeated + l.shared + l.train_all + l.valid_all + l.test_all);
    // "<lang> twice" and the 200 unique texts remain.
    CHECK(l.train_all + l.valid_all + l.test_all == 201);
  }

  // Balanced: every language has the same number of examples in a split, the smallest language's.
  const auto per_language = [](const std::vector<LabeledText>& split) {
    std::map<std::string, int64_t> n;
    for (const auto& e : split) ++n[e.label];
    return n;
  };
  int64_t smallest_train = 1 << 30;
  for (const auto& l : counts.languages) smallest_train = std::min(smallest_train, l.train_all);
  CHECK(counts.train_per_language == smallest_train);
  CHECK(per_language(splits.train) ==
        std::map<std::string, int64_t>{{"de", smallest_train}, {"es", smallest_train}, {"fr", smallest_train}});
  CHECK(per_language(splits.valid).size() == 3);
  for (const auto& [lang, n] : per_language(splits.valid)) CHECK(n == counts.valid_per_language);
  for (const auto& [lang, n] : per_language(splits.test)) CHECK(n == counts.test_per_language);
  CHECK(counts.valid_per_language > 5);
  CHECK(counts.test_per_language > 5);

  // No text is in two splits, and none of the dropped ones is anywhere.
  std::set<std::string> seen;
  for (const auto* split : {&splits.train, &splits.valid, &splits.test}) {
    for (const auto& e : *split) {
      CHECK(seen.insert(e.text).second);
      CHECK(e.text.rfind(e.label + " ", 0) == 0);  // each text is its label's
      CHECK(e.text != "Excel 2007");
      CHECK(e.text != "Click OK.");
    }
  }

  // Deterministic, and a text's split does not depend on the other texts.
  CHECK(build_help_langid(trees(dir), (dir / "en-US").string(), options).valid == splits.valid);
  const auto dir2 = fresh_dir("help_langid_more");
  write_langid_trees(dir2, 400);
  const auto more = build_help_langid(trees(dir2), (dir2 / "en-US").string(), options);
  std::set<std::string> more_train;
  for (const auto& e : more.train) more_train.insert(e.text);
  for (const auto& e : splits.valid) CHECK(more_train.count(e.text) == 0);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(dir2);
}

TEST_CASE("prepare_help_langid writes the splits and counts from the cache", "[data][langid]") {
  const auto dir = fresh_dir("help_langid_prepare");
  write_langid_trees(dir, 50);
  const auto cache = dir / "cache";
  for (const std::string lang : {"en-US", "de", "fr", "es"}) {
    torchzoo::testing::put_in_help_cache(dir / lang, cache, help_package_name(lang), lang);
  }
  const auto options = HelpLangIdOptions()
                           .languages({"de", "fr", "es"})
                           .cache_dir(cache.string())
                           .valid_fraction(0.2)
                           .test_fraction(0.2);
  const auto out = dir / "out";
  const auto counts = prepare_help_langid(options, out.string());
  const auto train = read_labeled_tsv((out / "train.tsv").string());
  CHECK(static_cast<int64_t>(train.size()) == 3 * counts.train_per_language);
  CHECK(sorted_labels(train) == std::vector<std::string>{"de", "es", "fr"});
  std::ifstream in(out / "counts.txt");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("languages de fr es\n") && Catch::Contains(to_string(counts)));

  REQUIRE_THROWS_WITH(prepare_help_langid(HelpLangIdOptions(options).languages({"de", "de"}), out.string()),
                      Catch::Contains("language 'de' is listed twice"));
  REQUIRE_THROWS_WITH(prepare_help_langid(HelpLangIdOptions(options).languages({"de", "f r"}), out.string()),
                      Catch::Contains("language 'f r' must be ASCII letters"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("Labeled TSV round-trips and its errors name the file and line", "[data][langid]") {
  const auto dir = fresh_dir("labeled_tsv");
  const std::vector<LabeledText> examples = {{"de", "Klicken Sie auf OK."}, {"fr", ""}, {"es", "Haga clic\u00a0aquí."}};
  const auto path = (dir / "data.tsv").string();
  write_labeled_tsv(path, examples);
  CHECK(read_labeled_tsv(path) == examples);
  CHECK(sorted_labels(examples) == std::vector<std::string>{"de", "es", "fr"});

  REQUIRE_THROWS_WITH(write_labeled_tsv(path, {{"de", "a\tb"}}), Catch::Contains("example 0"));
  REQUIRE_THROWS_WITH(write_labeled_tsv(path, {{"", "text"}}), Catch::Contains("empty label"));
  CHECK(read_labeled_tsv(path) == examples);  // a failed write leaves the file as it was

  help_write_file(dir / "bad.tsv", "de\tgut\nfr\tun\tdeux\n");
  REQUIRE_THROWS_WITH(read_labeled_tsv((dir / "bad.tsv").string()),
                      Catch::Contains("bad.tsv:2: expected 2 tab-separated fields (label<TAB>text), got 3"));
  help_write_file(dir / "empty_line.tsv", "de\tgut\n\n");
  REQUIRE_THROWS_WITH(read_labeled_tsv((dir / "empty_line.tsv").string()),
                      Catch::Contains("empty_line.tsv:2:") && Catch::Contains("got an empty line"));
  help_write_file(dir / "no_label.tsv", "\tgut\n");
  REQUIRE_THROWS_WITH(read_labeled_tsv((dir / "no_label.tsv").string()),
                      Catch::Contains("no_label.tsv:1: expected a label before the tab"));
  REQUIRE_THROWS_WITH(read_labeled_tsv((dir / "missing.tsv").string()),
                      Catch::Contains("missing.tsv") && Catch::Contains("does not exist"));
  std::filesystem::remove_all(dir);
}
