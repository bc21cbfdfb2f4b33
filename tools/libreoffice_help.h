#pragma once
// A real parallel corpus from the LibreOffice help: the same ~2560 HTML pages
// translated into many languages, shipped by Debian/Ubuntu as the packages
// libreoffice-help-<lang> (e.g. libreoffice-help-en-us, -de, -fr, -es, -it,
// -pt-br; `apt-cache search libreoffice-help-` lists them). The translators
// work paragraph by paragraph, and every paragraph keeps its id in every
// language, so pairs are aligned by (page path, element id) with no sentence
// alignment heuristics.
//
// What counts as a paragraph: the elements <p>, <h1> .. <h6> (and the stray
// <h> the help generator emits a few times) that carry a non-empty id
// attribute -- body paragraphs, list items, table cells and headings all come
// as such elements. Paragraphs without an id (notes' boilerplate, "Related
// Topics" links, the debug footer) cannot be aligned and are skipped, as are
// code samples (<pre>, never inside an id'd element).
//
// A paragraph's text is its character data:
//   - tags inside it are dropped, their text kept (<a>, <span class="menuitem">,
//     <sup>, ...); <br> and block-level tags become a space; <img> contributes
//     nothing (its alt text is "Icon Bold" and the like, noise mid-sentence);
//   - inline alternatives (<span class="switchinline">, cases marked
//     hidden="true" and shown by the help viewer's JavaScript, e.g. "Command"
//     on macOS vs "Ctrl" elsewhere) keep only the default case, the one whose id
//     starts with "default"; other hidden elements inside a paragraph are
//     dropped. Whole paragraphs inside hidden cases (block-level
//     <span class="switch">) are still taken: each is a complete sentence pair;
//   - entities are unescaped: &amp; &lt; &gt; &quot; &apos; &nbsp; (to U+00A0)
//     and a few other common named ones, &#NNN; and &#xHH; to UTF-8 (invalid
//     code points to U+FFFD); unknown or malformed ones are kept as written;
//   - runs of ASCII whitespace collapse to one space, and the ends are trimmed
//     (U+00A0 is kept: HTML does not collapse it either).
// Comments, <!DOCTYPE>, and the contents of <script> and <style> are skipped;
// '>' inside quoted attribute values does not end a tag. A <p> ends at its
// end tag, or, as in HTML, where a block-level start tag (or the end tag of
// an enclosing element) implies it.
//
// Corpus (build_help_corpus), deterministic to the byte:
//   1. pages: every *.html under the source root, in sorted relative-path
//      order; the target page is the same relative path under the target root;
//   2. alignment: the k-th paragraph with id X on a source page pairs with the
//      k-th paragraph with id X on the same target page (ids repeat on ~800
//      pages where a section is embedded twice); ids found on one side only
//      are skipped, and the same id on different pages never pairs;
//   3. filters, first match counted: empty (either side), identical
//      (src == tgt: untranslated, or names like "SUM"), long (either side over
//      max_chars Unicode code points);
//   4. deduplication by source text: the first pair in page/document order is
//      kept; later pairs with the same source are dropped, counted as
//      `duplicates` (same target) or `conflicting` (another target), so every
//      source has one reference translation;
//   5. split by source hash (split_by_source_hash in parallel_text.h: FNV-1a 64
//      of the source's UTF-8 bytes, mod 1000): the same source always lands in
//      the same split, whatever other pages are added.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/arg.h>

#include "torchzoo/data/parallel_text.h"

namespace torchzoo::tools {

/// Paragraphs of one help page: (id, text) in document order, markup stripped,
/// entities unescaped, whitespace collapsed (see the header comment). Texts may
/// be empty (e.g. a paragraph holding only an icon).
///
/// Example:
///   extract_help_paragraphs(R"(<p id="par_id1">Choose <span class="menuitem">Format</span> &amp; go.</p>)")
///     == {{"par_id1", "Choose Format & go."}}
std::vector<std::pair<std::string, std::string>> extract_help_paragraphs(const std::string& html);

/// The paragraphs of a whole help tree with their page: (relative page path, text), pages in
/// sorted relative-path order, each page's paragraphs in document order, empty texts included.
std::vector<std::pair<std::string, std::string>> help_page_paragraphs(const std::string& root);

/// The paragraph texts of a whole help tree (a folder usr/share/libreoffice/help/<lang>): its
/// *.html pages in sorted relative-path order, each page's paragraphs in document order, empty
/// texts included. The monolingual view of the help, e.g. for language identification.
std::vector<std::string> help_paragraph_texts(const std::string& root);

struct HelpCorpusOptions {
  /// Source language: the folder name under usr/share/libreoffice/help ("en-US", "de", "pt-BR", ...).
  TORCH_ARG(std::string, src_lang) = "en-US";
  /// Target language, likewise.
  TORCH_ARG(std::string, tgt_lang) = "de";
  /// Where prepare_libreoffice_help keeps the downloaded .deb files and their unpacked trees;
  /// empty: <data dir>/downloads/libreoffice-help (help_cache_dir).
  TORCH_ARG(std::string, cache_dir) = "";
  /// Pairs with either side longer than this many Unicode code points are dropped.
  TORCH_ARG(int64_t, max_chars) = 400;
  /// Share of the 1000 hash buckets that go to the validation split.
  TORCH_ARG(double, valid_fraction) = 0.02;
  /// Share of the buckets that go to the test split.
  TORCH_ARG(double, test_fraction) = 0.02;
};

/// What build_help_corpus did, step by step. Every aligned pair is counted in
/// exactly one of the drop reasons or one of the splits:
///   aligned == dropped_empty + dropped_identical + dropped_long + duplicates + conflicting + train + valid + test.
struct CorpusCounts {
  /// Pages found under both roots.
  int64_t pages = 0;
  /// Source pages with no target page of the same path (skipped).
  int64_t missing_pages = 0;
  /// (page, id, occurrence) keys present on both sides.
  int64_t aligned = 0;
  /// Paragraphs whose key is present on one side only (skipped).
  int64_t unaligned = 0;
  /// Aligned pairs with an empty side.
  int64_t dropped_empty = 0;
  /// Aligned pairs with src == tgt.
  int64_t dropped_identical = 0;
  /// Aligned pairs with a side longer than max_chars code points.
  int64_t dropped_long = 0;
  /// Later copies of an earlier (src, tgt) pair.
  int64_t duplicates = 0;
  /// Later pairs whose source was already taken with another target.
  int64_t conflicting = 0;
  /// Pairs in each split.
  int64_t train = 0, valid = 0, test = 0;
};

/// "pages 2561\nmissing_pages 0\n..." -- one "name value" line per field, in declaration order.
std::string to_string(const CorpusCounts& counts);

/// From two help trees (the folders usr/share/libreoffice/help/<lang>, which
/// hold text/...): the aligned, cleaned, deduplicated pairs, split by source
/// hash, each split in page/document order. `counts` (if not null) receives
/// the statistics. Options used: max_chars, valid_fraction, test_fraction.
///
/// Example:
///   CorpusCounts counts;
///   CorpusSplits s = build_help_corpus(".../help/en-US", ".../help/de", HelpCorpusOptions(), &counts);
data::CorpusSplits build_help_corpus(const std::string& src_root, const std::string& tgt_root,
                               const HelpCorpusOptions& options, CorpusCounts* counts = nullptr);

/// "en-US" -> "libreoffice-help-en-us", "pt-BR" -> "libreoffice-help-pt-br".
/// The language must be non-empty and made of ASCII letters and '-' (it ends
/// up in a package name and a path).
std::string help_package_name(const std::string& lang);

/// The unpacked help tree of `lang` (cache_dir/<package>/usr/share/libreoffice/help/<lang>).
/// Unless it is already there, runs `apt-get download <package>` in
/// cache_dir/<package>.download, keeps the .deb in cache_dir, and unpacks it
/// with `dpkg-deb -x` into a temporary folder renamed into place when complete.
/// Needs apt-get and dpkg-deb (not root). Errors give the failed command, its
/// folder and its exit status, or list the languages the package does hold.
std::string fetch_libreoffice_help(const std::string& lang, const std::string& cache_dir);

/// `cache_dir`, or <data dir>/downloads/libreoffice-help when it is empty (common/data_dir.h).
std::string help_cache_dir(const std::string& cache_dir);

/// Fetches both languages (fetch_libreoffice_help), builds the corpus and
/// writes out_dir/train.tsv, valid.tsv, test.tsv ("src<TAB>tgt" lines, see
/// write_parallel_tsv), each split once more as one sentence per line and
/// language (test.en-US, test.de, ...: what sacreBLEU and `torchzoo translate`
/// read) and out_dir/counts.txt (the options, the .deb files and
/// to_string(counts)), each through a temporary file and a rename; counts.txt
/// is written last. Returns the counts.
///
/// Example:
///   prepare_libreoffice_help(HelpCorpusOptions().tgt_lang("fr"), common::data_path("libreoffice-help/en-US-fr"));
CorpusCounts prepare_libreoffice_help(const HelpCorpusOptions& options, const std::string& out_dir);

}  // namespace torchzoo::tools
