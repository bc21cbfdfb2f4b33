#pragma once
// A language-identification corpus from the LibreOffice help: the paragraphs
// of the same ~2560 pages in several languages (Debian's
// libreoffice-help-<lang> packages, fetched as for the parallel corpus, see
// tools/libreoffice_help.h), labelled with their language.
//
// Corpus (build_help_langid), deterministic to the byte:
//   1. texts: every paragraph of every page of each language's help tree
//      (help_paragraph_texts), in page/document order;
//   2. filters per language, first match counted: empty, long (over max_chars
//      code points), untranslated (the text also occurs in the reference
//      language's help, English by default: untranslated strings, names,
//      numbers), repeated (an earlier paragraph of the same language had the
//      same text);
//   3. shared: a text left in more than one language after step 2 is dropped
//      from all of them (it cannot be told apart: "Excel 2007", "Basic IDE");
//   4. split by text hash (source_bucket in parallel_text.h), so a text never
//      straddles splits;
//   5. balance: in each split every language keeps as many texts as the
//      smallest language has there -- those with the lowest FNV-1a 64 hash,
//      a deterministic pseudo-random subset -- in page/document order.
//      Splits are written language by language, in the order of `languages`.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "torchzoo/data/labeled_text.h"

namespace torchzoo::tools {

struct HelpLangIdOptions {
  /// The classes: help languages (folder names under usr/share/libreoffice/help), used as labels.
  TORCH_ARG(std::vector<std::string>, languages) = std::vector<std::string>{"de", "fr", "es", "it", "pt"};
  /// Texts also found in this language's help count as untranslated; empty: no such filter.
  TORCH_ARG(std::string, reference_lang) = "en-US";
  /// Where the downloaded .deb files and their unpacked trees are kept; empty: the default of
  /// HelpCorpusOptions::cache_dir (help_cache_dir), which both corpora share.
  TORCH_ARG(std::string, cache_dir) = "";
  /// Texts longer than this many Unicode code points are dropped.
  TORCH_ARG(int64_t, max_chars) = 400;
  /// Share of the 1000 hash buckets for the validation split, and for the test split.
  TORCH_ARG(double, valid_fraction) = 0.05;
  TORCH_ARG(double, test_fraction) = 0.05;
};

/// What build_help_langid did, per language (in the order of `languages`). For each language:
///   paragraphs == empty + long_ + untranslated + repeated + shared + train_all + valid_all + test_all
/// and each split keeps min over languages of its *_all counts.
struct HelpLangIdCounts {
  struct Language {
    std::string name;
    int64_t paragraphs = 0, empty = 0, long_ = 0, untranslated = 0, repeated = 0, shared = 0;
    /// Texts in each split before balancing.
    int64_t train_all = 0, valid_all = 0, test_all = 0;
  };
  std::vector<Language> languages;
  /// Examples per language in each split after balancing.
  int64_t train_per_language = 0, valid_per_language = 0, test_per_language = 0;
};

/// "language de: paragraphs ... \n..." -- one line per language and one per split.
std::string to_string(const HelpLangIdCounts& counts);

/// Splits of labelled texts.
struct LabeledSplits {
  std::vector<data::LabeledText> train, valid, test;
};

/// Writes out_dir/{train,valid,test}.tsv ("label<TAB>text", write_labeled_tsv), then
/// out_dir/counts.txt holding `counts_text`, last, so that its presence means a whole corpus.
void write_labeled_splits(const std::string& out_dir, const LabeledSplits& splits, const std::string& counts_text);

/// From help trees, one per language (`trees[i]` holds `options.languages()[i]`; `reference_tree`
/// is the reference language's, or empty for none): the balanced splits. `counts` (if not null)
/// receives the statistics. Options used: languages, max_chars, valid_fraction, test_fraction.
LabeledSplits build_help_langid(const std::vector<std::string>& trees, const std::string& reference_tree,
                                const HelpLangIdOptions& options, HelpLangIdCounts* counts = nullptr);

/// Fetches every language's help (fetch_libreoffice_help), builds the corpus and writes
/// out_dir/{train,valid,test}.tsv ("label<TAB>text", write_labeled_tsv) and out_dir/counts.txt
/// (written last). Returns the counts.
///
/// Example:
///   prepare_help_langid(HelpLangIdOptions(), common::data_path("libreoffice-langid"));
HelpLangIdCounts prepare_help_langid(const HelpLangIdOptions& options, const std::string& out_dir);

}  // namespace torchzoo::tools
