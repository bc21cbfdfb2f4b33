#include "torchzoo/tools/help_apps.h"

#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "torchzoo/common/check.h"
#include "torchzoo/common/utf8.h"
#include "torchzoo/data/parallel_text.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/tools/libreoffice_help.h"

namespace torchzoo::tools {

using namespace torchzoo::data;  // the corpus types and text files the tools fill

std::string help_app_of(const std::string& page) {
  static const std::unordered_map<std::string, std::string> apps = {
      {"swriter", "Writer"}, {"scalc", "Calc"}, {"simpress", "Impress"}, {"sdraw", "Draw"},
      {"sdatabase", "Base"}, {"smath", "Math"}, {"sbasic", "Basic"},     {"shared", "shared"}};
  if (page.rfind("text/", 0) != 0) return "";
  const auto end = page.find('/', 5);
  if (end == std::string::npos) return "";
  const auto it = apps.find(page.substr(5, end - 5));
  return it == apps.end() ? "" : it->second;
}

std::string to_string(const HelpAppsCounts& counts) {
  std::string out =
      fmt::format("paragraphs {} | other {} | empty {} | long {} | repeated {} | ambiguous {}\n", counts.paragraphs,
                  counts.other, counts.empty, counts.long_, counts.repeated, counts.ambiguous);
  for (const auto& [label, n] : counts.train) {
    out += fmt::format("class {}: train {} | valid {} | test {}\n", label, n,
                       counts.valid.count(label) ? counts.valid.at(label) : 0,
                       counts.test.count(label) ? counts.test.at(label) : 0);
  }
  return out;
}

LabeledSplits build_help_apps(const std::string& tree, const HelpAppsOptions& options, HelpAppsCounts* counts) {
  TORCHZOO_CHECK(options.max_chars() > 0, "build_help_apps: max_chars must be positive, got {}", options.max_chars());
  HelpAppsCounts c;
  // Steps 1-2: (text, application) in page order, unique within an application.
  std::vector<ParallelPair> kept;        // src: the text, tgt: its application
  std::unordered_set<std::string> seen;  // "app\ttext"
  std::unordered_map<std::string, std::unordered_set<std::string>> apps_of;
  for (auto& [page, text] : help_page_paragraphs(tree)) {
    ++c.paragraphs;
    const auto app = help_app_of(page);
    if (app.empty()) {
      ++c.other;
    } else if (text.empty()) {
      ++c.empty;
    } else if (common::utf8_length(text) > options.max_chars()) {
      ++c.long_;
    } else if (!seen.insert(app + '\t' + text).second) {
      ++c.repeated;
    } else {
      apps_of[text].insert(app);
      kept.push_back({std::move(text), app});
    }
  }
  // Step 3: texts of several applications.
  std::vector<ParallelPair> unambiguous;
  for (auto& pair : kept) {
    if (apps_of.at(pair.src).size() > 1) {
      ++c.ambiguous;
    } else {
      unambiguous.push_back(std::move(pair));
    }
  }
  // Step 4: split by text hash.
  const auto splits = split_by_source_hash(unambiguous, options.valid_fraction(), options.test_fraction());
  LabeledSplits out;
  const auto take = [](const std::vector<ParallelPair>& pairs, std::vector<LabeledText>& texts,
                       std::map<std::string, int64_t>& by_class) {
    for (const auto& pair : pairs) {
      texts.push_back({pair.tgt, pair.src});
      ++by_class[pair.tgt];
    }
  };
  take(splits.train, out.train, c.train);
  take(splits.valid, out.valid, c.valid);
  take(splits.test, out.test, c.test);
  if (counts != nullptr) *counts = c;
  return out;
}

HelpAppsCounts prepare_help_apps(const HelpAppsOptions& options, const std::string& out_dir) {
  help_package_name(options.lang());  // checked before anything is downloaded
  const auto tree = fetch_libreoffice_help(options.lang(), options.cache_dir());
  HelpAppsCounts counts;
  const auto splits = build_help_apps(tree, options, &counts);
  write_labeled_splits(out_dir, splits,
                       fmt::format("# LibreOffice help application corpus, made by torchzoo::tools::prepare_help_apps\n"
                                   "# label: the page's module folder; split by FNV-1a 64 of the text mod 1000\n"
                                   "lang {}\nmax_chars {}\nvalid_fraction {}\ntest_fraction {}\n{}",
                                   options.lang(), options.max_chars(), options.valid_fraction(),
                                   options.test_fraction(), to_string(counts)));
  return counts;
}

}  // namespace torchzoo::tools
