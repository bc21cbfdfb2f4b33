#include "torchzoo/tools/help_langid.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "torchzoo/tools/libreoffice_help.h"
#include "torchzoo/data/parallel_text.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"
#include "torchzoo/common/utf8.h"

namespace torchzoo::tools {

using namespace torchzoo::data;  // the corpus types and text files the tools fill
namespace help_langid {
namespace {

/// Keeps the `n` texts of `texts` with the lowest FNV-1a 64 hash (ties: the earlier text), in their order.
std::vector<std::string> lowest_hashes(const std::vector<std::string>& texts, size_t n) {
  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return fnv1a64(texts[a]) < fnv1a64(texts[b]); });
  order.resize(std::min(n, order.size()));
  std::sort(order.begin(), order.end());
  std::vector<std::string> kept;
  for (const size_t i : order) kept.push_back(texts[i]);
  return kept;
}

}  // namespace
}  // namespace help_langid

std::string to_string(const HelpLangIdCounts& counts) {
  std::string text;
  for (const auto& l : counts.languages) {
    text += fmt::format(
        "language {}: paragraphs {} | empty {} | long {} | untranslated {} | repeated {} | shared {} | "
        "train {} | valid {} | test {}\n",
        l.name, l.paragraphs, l.empty, l.long_, l.untranslated, l.repeated, l.shared, l.train_all, l.valid_all,
        l.test_all);
  }
  text += fmt::format("balanced per language: train {} | valid {} | test {}\n", counts.train_per_language,
                      counts.valid_per_language, counts.test_per_language);
  return text;
}

LabeledSplits build_help_langid(const std::vector<std::string>& trees, const std::string& reference_tree,
                                const HelpLangIdOptions& options, HelpLangIdCounts* counts) {
  const auto& languages = options.languages();
  TORCHZOO_CHECK(languages.size() >= 2, "build_help_langid: needs at least 2 languages, got {}", languages.size());
  TORCHZOO_CHECK(trees.size() == languages.size(), "build_help_langid: {} help trees for {} languages", trees.size(),
                 languages.size());
  TORCHZOO_CHECK(options.max_chars() > 0, "build_help_langid: max_chars must be positive, got {}", options.max_chars());
  HelpLangIdCounts c;

  std::unordered_set<std::string> reference;
  if (!reference_tree.empty()) {
    for (auto& text : help_paragraph_texts(reference_tree)) reference.insert(std::move(text));
  }

  // Steps 1-2: each language's unique, translated texts of a usable length, in page order.
  std::vector<std::vector<std::string>> texts(languages.size());
  std::unordered_map<std::string, int64_t> languages_of;  // text -> number of languages holding it
  for (size_t l = 0; l < languages.size(); ++l) {
    HelpLangIdCounts::Language counted;
    counted.name = languages[l];
    std::unordered_set<std::string> seen;
    for (auto& text : help_paragraph_texts(trees[l])) {
      ++counted.paragraphs;
      if (text.empty()) {
        ++counted.empty;
      } else if (common::utf8_length(text) > options.max_chars()) {
        ++counted.long_;
      } else if (reference.count(text) > 0) {
        ++counted.untranslated;
      } else if (!seen.insert(text).second) {
        ++counted.repeated;
      } else {
        ++languages_of[text];
        texts[l].push_back(std::move(text));
      }
    }
    c.languages.push_back(counted);
  }

  // Steps 3-4: drop texts of several languages; split the rest by hash.
  std::vector<CorpusSplits> by_language(languages.size());
  for (size_t l = 0; l < languages.size(); ++l) {
    std::vector<ParallelPair> unique;
    for (auto& text : texts[l]) {
      if (languages_of.at(text) > 1) {
        ++c.languages[l].shared;
      } else {
        unique.push_back({std::move(text), languages[l]});
      }
    }
    by_language[l] = split_by_source_hash(unique, options.valid_fraction(), options.test_fraction());
    c.languages[l].train_all = static_cast<int64_t>(by_language[l].train.size());
    c.languages[l].valid_all = static_cast<int64_t>(by_language[l].valid.size());
    c.languages[l].test_all = static_cast<int64_t>(by_language[l].test.size());
  }

  // Step 5: balance each split to its smallest language.
  LabeledSplits splits;
  const auto balance = [&](std::vector<ParallelPair> CorpusSplits::*split, std::vector<LabeledText>& out) {
    size_t smallest = std::numeric_limits<size_t>::max();
    for (const auto& s : by_language) smallest = std::min(smallest, (s.*split).size());
    for (size_t l = 0; l < languages.size(); ++l) {
      std::vector<std::string> split_texts;
      for (const auto& pair : by_language[l].*split) split_texts.push_back(pair.src);
      for (auto& text : help_langid::lowest_hashes(split_texts, smallest))
        out.push_back({languages[l], std::move(text)});
    }
    return static_cast<int64_t>(smallest);
  };
  c.train_per_language = balance(&CorpusSplits::train, splits.train);
  c.valid_per_language = balance(&CorpusSplits::valid, splits.valid);
  c.test_per_language = balance(&CorpusSplits::test, splits.test);
  if (counts != nullptr) *counts = c;
  return splits;
}

HelpLangIdCounts prepare_help_langid(const HelpLangIdOptions& options, const std::string& out_dir) {
  const auto& languages = options.languages();
  for (size_t i = 0; i < languages.size(); ++i) {
    help_package_name(languages[i]);  // every language is checked before anything is downloaded
    for (size_t j = 0; j < i; ++j) {
      TORCHZOO_CHECK(languages[i] != languages[j], "prepare_help_langid: language '{}' is listed twice", languages[i]);
    }
  }
  if (!options.reference_lang().empty()) help_package_name(options.reference_lang());
  std::vector<std::string> trees;
  for (const auto& lang : languages) trees.push_back(fetch_libreoffice_help(lang, options.cache_dir()));
  const std::string reference_tree =
      options.reference_lang().empty() ? "" : fetch_libreoffice_help(options.reference_lang(), options.cache_dir());

  HelpLangIdCounts counts;
  const LabeledSplits splits = build_help_langid(trees, reference_tree, options, &counts);
  write_labeled_splits(
      out_dir, splits,
      fmt::format("# LibreOffice help language identification corpus, made by torchzoo::data::prepare_help_langid\n"
                  "# split by FNV-1a 64 of the text mod 1000, balanced per split\n"
                  "languages {}\nreference_lang {}\nmax_chars {}\nvalid_fraction {}\ntest_fraction {}\n{}",
                  fmt::join(languages, " "), options.reference_lang(), options.max_chars(), options.valid_fraction(),
                  options.test_fraction(), to_string(counts)));
  return counts;
}

void write_labeled_splits(const std::string& out_dir, const LabeledSplits& splits, const std::string& counts_text) {
  const std::filesystem::path out(out_dir);
  std::filesystem::create_directories(out);
  write_labeled_tsv((out / "train.tsv").string(), splits.train);
  write_labeled_tsv((out / "valid.tsv").string(), splits.valid);
  write_labeled_tsv((out / "test.tsv").string(), splits.test);
  common::write_file_atomically((out / "counts.txt").string(), counts_text, "LibreOffice help");
}

}  // namespace torchzoo::tools
