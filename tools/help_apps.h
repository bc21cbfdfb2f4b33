#pragma once
// Which LibreOffice application a help paragraph belongs to: a text
// classification corpus from the English help (Debian's libreoffice-help-en-us,
// fetched as for the other help corpora, tools/libreoffice_help.h), labelled by
// the folder of the paragraph's page, text/<module>/...:
//
//   swriter Writer | scalc Calc | simpress Impress | sdraw Draw | sdatabase Base |
//   smath Math | sbasic Basic | shared shared
//
// (schart's 56 chart pages, and pages outside text/, are left out.)
//
// Corpus (build_help_apps), deterministic to the byte:
//   1. every paragraph of every page, pages in sorted path order;
//   2. filters, first match counted: other (a page of no listed module),
//      empty, long (over max_chars code points), repeated (the same text
//      earlier in the same application);
//   3. ambiguous: a text found in more than one application is dropped from
//      all of them ("Click OK.", "Format - Cells" in Calc and Writer alike);
//   4. split by text hash (source_bucket in data/parallel_text.h, the rule of
//      the other help corpora), so a text never straddles splits. The classes
//      keep their natural sizes (shared is the largest, Draw the smallest).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "torchzoo/tools/help_langid.h"

namespace torchzoo::tools {

/// Options of build_help_apps and prepare_help_apps.
struct HelpAppsOptions {
  /// The help language whose paragraphs are classified.
  TORCH_ARG(std::string, lang) = "en-US";
  /// Where the .deb files and their trees are kept; empty: help_cache_dir's default.
  TORCH_ARG(std::string, cache_dir) = "";
  /// Texts longer than this many Unicode code points are dropped.
  TORCH_ARG(int64_t, max_chars) = 400;
  TORCH_ARG(double, valid_fraction) = 0.05;
  TORCH_ARG(double, test_fraction) = 0.05;
};

/// What build_help_apps did: paragraphs == other + empty + long_ + repeated + ambiguous + kept,
/// and the kept texts of each class in each split.
struct HelpAppsCounts {
  int64_t paragraphs = 0, other = 0, empty = 0, long_ = 0, repeated = 0, ambiguous = 0;
  std::map<std::string, int64_t> train, valid, test;  ///< by class
};

/// "paragraphs ...\nclass Writer: train ... | valid ... | test ...\n..."
std::string to_string(const HelpAppsCounts& counts);

/// The application (label) of a help page's relative path, or "" for a page of none.
std::string help_app_of(const std::string& page);

/// From one help tree: the splits (labels as help_app_of names them).
LabeledSplits build_help_apps(const std::string& tree, const HelpAppsOptions& options,
                              HelpAppsCounts* counts = nullptr);

/// Fetches the help, builds the corpus, writes out_dir/{train,valid,test}.tsv ("label<TAB>text") and
/// out_dir/counts.txt (last). Returns the counts.
HelpAppsCounts prepare_help_apps(const HelpAppsOptions& options, const std::string& out_dir);

}  // namespace torchzoo::tools
