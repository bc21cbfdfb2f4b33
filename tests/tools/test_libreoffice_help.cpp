#include <catch2/catch.hpp>

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "../support/help_pages.h"
#include "../support/temp_dir.h"
#include "torchzoo/common/data_dir.h"
#include "torchzoo/tools/libreoffice_help.h"

using namespace torchzoo::data;
using namespace torchzoo::tools;
using torchzoo::testing::fresh_dir;

namespace {

using Paragraphs = torchzoo::testing::HelpParagraphs;
using torchzoo::testing::help_page;
using torchzoo::testing::help_write_file;

std::string repeat(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

std::vector<ParallelPair> all_pairs(const CorpusSplits& s) {
  std::vector<ParallelPair> all = s.train;
  all.insert(all.end(), s.valid.begin(), s.valid.end());
  all.insert(all.end(), s.test.begin(), s.test.end());
  return all;
}

/// Two small help trees: src/ (English) and tgt/ (German) under `dir`.
void write_help_trees(const std::filesystem::path& dir) {
  const auto src = dir / "src", tgt = dir / "tgt";
  help_write_file(src / "text/a/page1.html", help_page({{"p1", "Hello"},
                                                        {"p2", "Only in English"},
                                                        {"p4", "An icon:"},
                                                        {"p5", "SUM"},
                                                        {"p6", repeat("a", 401)},
                                                        {"p7", "Hello"},
                                                        {"p8", "Hello"},
                                                        {"d", "first"},
                                                        {"d", "second"},
                                                        {"p9", repeat("\xC3\xA4", 400)}}));
  help_write_file(tgt / "text/a/page1.html", help_page({{"p1", "Hallo"},
                                                        {"p3", "Nur auf Deutsch"},
                                                        {"p4", "<img src=\"x.svg\" alt=\"Symbol\">"},
                                                        {"p5", "SUM"},
                                                        {"p6", "kurz"},
                                                        {"p7", "Hallo"},
                                                        {"p8", "Servus"},
                                                        {"d", "erstes"},
                                                        {"d", "zweites"},
                                                        {"p9", repeat("\xC3\xB6", 400)}}));
  // The same id on another page is another paragraph.
  help_write_file(src / "text/b/page2.html", help_page({{"p1", "Good <span class=\"menuitem\">morning</span>"}}));
  help_write_file(tgt / "text/b/page2.html", help_page({{"p1", "Guten <span class=\"menuitem\">Morgen</span>"}}));
  // A page missing in the target, and one only in the target.
  help_write_file(src / "text/c/only_src.html", help_page({{"p1", "Orphan"}}));
  help_write_file(tgt / "text/c/only_tgt.html", help_page({{"p1", "Waise"}}));
}

}  // namespace

TEST_CASE("extract_help_paragraphs takes id'd paragraphs and headings, markup stripped", "[data][libreoffice_help]") {
  const std::string html = R"(<!DOCTYPE html>
<html><head><script>var s = "<p id='in_script'>no</p>";</script><style>p > a { }</style></head>
<body>
<!-- <p id="in_comment">no</p> -->
<h1 id="hd_id1" dir="auto">
<a name="autocorr"></a>Adding   Exceptions
</h1>
<p id="par_id1" class="paragraph" dir="auto">Choose <span class="menuitem">Tools - AutoCorrect</span>, then
   <a target="_top" href="en-US/text/x.html">click</a> OK.</p>
<p class="related">no id, skipped</p>
<p id="par_id2" class="listitem">Press <span id="swln1" class="switchinline"><span hidden="true" id="MACtext1" class="MAC">Command
</span><span hidden="true" id="defaulttext1">Ctrl</span></span>+Z.</p>
<p id="par_id3">line one<br>line two<br/>three</p>
<p id="par_id4" class="paragraphintable"><img src="media/sc_bold.svg" class="iconimage" alt="Icon Bold"></p>
<P ID="par_id5" title="a > b">quoted <span data-x='1>2'>attributes</span></P>
<h2 id="hd_id2">Head <span><span>nested</span> spans</span></h2>
<p id="par_id6">x<sup>2</sup> + y<sub>i</sub> and 1 < 2 <= 3</p>
<h id="par_idN1">stray heading</h>
<table><tr><td><p id="par_id7">cell</td></tr></table>
<p id="par_id8">unclosed<div>block</div>
<p id="par_id9">hidden <span hidden="true" class="CALC"><span>Calc only</span></span>gone</p>
<p id="">empty id, skipped</p>
<p id="par_id10">cut at the end)";
  const Paragraphs expected = {
      {"hd_id1", "Adding Exceptions"},
      {"par_id1", "Choose Tools - AutoCorrect, then click OK."},
      {"par_id2", "Press Ctrl+Z."},
      {"par_id3", "line one line two three"},
      {"par_id4", ""},
      {"par_id5", "quoted attributes"},
      {"hd_id2", "Head nested spans"},
      {"par_id6", "x2 + yi and 1 < 2 <= 3"},
      {"par_idN1", "stray heading"},
      {"par_id7", "cell"},
      {"par_id8", "unclosed"},
      {"par_id9", "hidden gone"},
      {"par_id10", "cut at the end"},
  };
  CHECK(extract_help_paragraphs(html) == expected);
}

TEST_CASE("extract_help_paragraphs unescapes entities to UTF-8", "[data][libreoffice_help]") {
  const std::string html = R"(<p id="e1">a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos; x&nbsp;y</p>)"
                           R"(<p id="e2">&#65;&#x42;&#xe4;&#228;&#X1F600; &ndash; &euro;</p>)"
                           R"(<p id="e3">&unknown; &amp bare & ok &#xD800; &#0; &#x110000; &#12a; &#;</p>)"
                           R"(<p id="a&amp;b">id unescaped</p>)";
  const Paragraphs expected = {
      {"e1", "a & b <c> \"q\" 's' x\xC2\xA0y"},  // &nbsp; is U+00A0, kept (not collapsed)
      {"e2", "AB\xC3\xA4\xC3\xA4\xF0\x9F\x98\x80 \xE2\x80\x93 \xE2\x82\xAC"},
      {"e3", "&unknown; &amp bare & ok \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD &#12a; &#;"},
      {"a&b", "id unescaped"},
  };
  CHECK(extract_help_paragraphs(html) == expected);
}

TEST_CASE("extract_help_paragraphs never fails on malformed HTML", "[data][libreoffice_help]") {
  for (const std::string html : {"", "<", "<p", "<p id=", "<p id=\"x", "<p id=x>text", "&#", "<!--", "</", "<p id=a><",
                                 "<p id=a><span hidden>", "<script>", "<p id='a' / >x</p>"}) {
    CHECK_NOTHROW(extract_help_paragraphs(html));
  }
  const Paragraphs unquoted = {{"x", "unquoted id"}};
  CHECK(extract_help_paragraphs("<p id=x>unquoted id</p>") == unquoted);
}

TEST_CASE("build_help_corpus aligns by page and id, filters and deduplicates", "[data][libreoffice_help]") {
  const auto dir = fresh_dir("help_corpus");
  write_help_trees(dir);
  CorpusCounts counts;
  const auto splits = build_help_corpus((dir / "src").string(), (dir / "tgt").string(),
                                        HelpCorpusOptions().valid_fraction(0).test_fraction(0), &counts);
  // Page order (text/a/page1, text/b/page2), then document order.
  const std::vector<ParallelPair> expected = {
      {"Hello", "Hallo"},
      {"first", "erstes"},
      {"second", "zweites"},                               // a repeated id pairs occurrence by occurrence
      {repeat("\xC3\xA4", 400), repeat("\xC3\xB6", 400)},  // 400 code points (800 bytes) is not too long
      {"Good morning", "Guten Morgen"},
  };
  CHECK(splits.train == expected);
  CHECK(splits.valid.empty());
  CHECK(splits.test.empty());

  CHECK(counts.pages == 2);
  CHECK(counts.missing_pages == 1);
  CHECK(counts.aligned == 12);           // page1: p1 p4 p5 p6 p7 p8 d d p9 bm_module; page2: p1 bm_module
  CHECK(counts.unaligned == 2);          // p2 (English only), p3 (German only)
  CHECK(counts.dropped_empty == 3);      // p4 (only an icon in German) and the empty footer paragraphs of both pages
  CHECK(counts.dropped_identical == 1);  // p5 "SUM"
  CHECK(counts.dropped_long == 1);       // p6: 401 characters
  CHECK(counts.duplicates == 1);         // p7 repeats p1
  CHECK(counts.conflicting == 1);        // p8: "Hello" already taken as "Hallo"
  CHECK(counts.train == 5);
  CHECK(counts.aligned == counts.dropped_empty + counts.dropped_identical + counts.dropped_long + counts.duplicates +
                              counts.conflicting + counts.train + counts.valid + counts.test);

  const auto shorter = build_help_corpus((dir / "src").string(), (dir / "tgt").string(),
                                         HelpCorpusOptions().max_chars(6).valid_fraction(0).test_fraction(0), &counts);
  const std::vector<ParallelPair> short_pairs = {{"Hello", "Hallo"}, {"first", "erstes"}};
  CHECK(shorter.train == short_pairs);
  CHECK(counts.dropped_long == 4);  // p6, p9, "zweites" (7 characters) and "Good morning"
  CHECK(counts.conflicting == 1);   // "Servus" still fits, and loses to "Hallo"
}

TEST_CASE("build_help_corpus splits by source hash, stably", "[data][libreoffice_help]") {
  const auto dir = fresh_dir("help_corpus_split");
  const auto src = dir / "src", tgt = dir / "tgt";
  Paragraphs en, de;
  for (int i = 0; i < 300; ++i) {
    en.push_back({"par_id" + std::to_string(i), "Sentence number " + std::to_string(i) + "."});
    de.push_back({"par_id" + std::to_string(i), "Satz Nummer " + std::to_string(i) + "."});
  }
  help_write_file(src / "text/m/page.html", help_page(en));
  help_write_file(tgt / "text/m/page.html", help_page(de));
  const auto options = HelpCorpusOptions().valid_fraction(0.2).test_fraction(0.1);
  const auto before = build_help_corpus(src.string(), tgt.string(), options);
  CHECK(before.train.size() + before.valid.size() + before.test.size() == 300);
  CHECK(before.valid.size() > 30);  // ~60 expected
  CHECK(before.test.size() > 10);   // ~30 expected
  for (const auto& p : before.valid) CHECK(source_bucket(p.src) < 200);
  for (const auto& p : before.test) CHECK((source_bucket(p.src) >= 200 && source_bucket(p.src) < 300));

  // Deterministic: the same trees give the same splits in the same order.
  const auto again = build_help_corpus(src.string(), tgt.string(), options);
  CHECK(again.train == before.train);
  CHECK(again.valid == before.valid);
  CHECK(again.test == before.test);

  // Unrelated pages, sorting before and after the old one, move no old pair to another split.
  Paragraphs en_new, de_new;
  for (int i = 0; i < 100; ++i) {
    en_new.push_back({"par_id" + std::to_string(i), "Another sentence " + std::to_string(i) + "."});
    de_new.push_back({"par_id" + std::to_string(i), "Ein anderer Satz " + std::to_string(i) + "."});
  }
  for (const char* page : {"text/a/first.html", "text/z/last.html"}) {
    help_write_file(src / page, help_page(en_new));
    help_write_file(tgt / page, help_page(de_new));
  }
  const auto after = build_help_corpus(src.string(), tgt.string(), options);
  const auto only_old = [](const std::vector<ParallelPair>& pairs) {
    std::vector<ParallelPair> old;
    std::copy_if(pairs.begin(), pairs.end(), std::back_inserter(old),
                 [](const ParallelPair& p) { return p.src.rfind("Sentence", 0) == 0; });
    return old;
  };
  CHECK(only_old(after.train) == before.train);
  CHECK(only_old(after.valid) == before.valid);
  CHECK(only_old(after.test) == before.test);
  CHECK(all_pairs(after).size() == 400);  // the second new page only repeats the first
}

TEST_CASE("build_help_corpus validates its inputs", "[data][libreoffice_help][errors]") {
  const auto dir = fresh_dir("help_corpus_errors");
  std::filesystem::create_directories(dir / "src");
  REQUIRE_THROWS_WITH(build_help_corpus((dir / "src").string(), (dir / "nope").string(), HelpCorpusOptions()),
                      Catch::Contains("target help tree") && Catch::Contains("nope' is not a folder"));
  REQUIRE_THROWS_WITH(
      build_help_corpus((dir / "src").string(), (dir / "src").string(), HelpCorpusOptions().max_chars(0)),
      Catch::Contains("max_chars must be positive, got 0"));
}

TEST_CASE("help_package_name lowercases a validated language code", "[data][libreoffice_help]") {
  CHECK(help_package_name("en-US") == "libreoffice-help-en-us");
  CHECK(help_package_name("de") == "libreoffice-help-de");
  CHECK(help_package_name("pt-BR") == "libreoffice-help-pt-br");
  for (const std::string bad : {"", "de;rm -rf x", "en_US", "../de", "-de", "d e"}) {
    REQUIRE_THROWS_WITH(help_package_name(bad), Catch::Contains("must be ASCII letters and '-'"));
  }
}

TEST_CASE("prepare_libreoffice_help uses unpacked trees in the cache and writes the splits",
          "[data][libreoffice_help]") {
  const auto dir = fresh_dir("help_prepare");
  const auto cache = dir / "cache";
  write_help_trees(dir);
  // As fetch_libreoffice_help leaves them: no apt-get, no dpkg-deb needed.
  torchzoo::testing::put_in_help_cache(dir / "src", cache, "libreoffice-help-en-us", "en-US");
  torchzoo::testing::put_in_help_cache(dir / "tgt", cache, "libreoffice-help-de", "de");

  const auto options = HelpCorpusOptions().cache_dir(cache.string()).valid_fraction(0.3).test_fraction(0.3);
  const auto out = dir / "out";
  const CorpusCounts counts = prepare_libreoffice_help(options, out.string());
  CHECK(counts.pages == 2);
  CHECK(counts.train + counts.valid + counts.test == 5);

  CorpusCounts built;
  const auto splits = build_help_corpus(fetch_libreoffice_help("en-US", cache.string()),
                                        fetch_libreoffice_help("de", cache.string()), options, &built);
  CHECK(read_parallel_tsv((out / "train.tsv").string()) == splits.train);
  CHECK(read_parallel_tsv((out / "valid.tsv").string()) == splits.valid);
  CHECK(read_parallel_tsv((out / "test.tsv").string()) == splits.test);
  std::ifstream in(out / "counts.txt");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("src_lang en-US\ntgt_lang de\n") && Catch::Contains(to_string(built)));
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    CHECK(entry.path().extension() != ".tmp");
  }

  REQUIRE_THROWS_WITH(prepare_libreoffice_help(HelpCorpusOptions(options).tgt_lang("en-US"), out.string()),
                      Catch::Contains("src_lang and tgt_lang are both 'en-US'"));
}

TEST_CASE("fetch_libreoffice_help reports a failing apt-get with its exit status", "[data][libreoffice_help][errors]") {
  const auto dir = fresh_dir("help_fetch_fails");
  // A stand-in apt-get first in PATH, so the test needs neither apt nor the network.
  help_write_file(dir / "bin/apt-get", "#!/bin/sh\nexit 100\n");
  std::filesystem::permissions(dir / "bin/apt-get", std::filesystem::perms::owner_all);
  const std::string old_path = ::getenv("PATH") ? ::getenv("PATH") : "";
  ::setenv("PATH", ((dir / "bin").string() + ":" + old_path).c_str(), 1);
  const auto cache = (dir / "cache").string();
  CHECK_THROWS_WITH(fetch_libreoffice_help("xx", cache), Catch::Contains("`apt-get download libreoffice-help-xx`") &&
                                                             Catch::Contains("failed with exit status 100"));
  ::setenv("PATH", old_path.c_str(), 1);
  CHECK(std::filesystem::is_empty(dir / "cache"));  // no half-made download or tree left behind
}

TEST_CASE("prepare_libreoffice_help keeps its downloads in the data directory by default", "[data][libreoffice_help]") {
  const auto dir = fresh_dir("help_data_dir");
  write_help_trees(dir);
  const auto downloads = dir / "data" / "downloads" / "libreoffice-help";
  torchzoo::testing::put_in_help_cache(dir / "src", downloads, "libreoffice-help-en-us", "en-US");
  torchzoo::testing::put_in_help_cache(dir / "tgt", downloads, "libreoffice-help-de", "de");
  torchzoo::common::set_data_dir((dir / "data").string());
  CHECK(help_cache_dir("") == downloads.string());
  CHECK(help_cache_dir("/elsewhere") == "/elsewhere");
  const CorpusCounts counts = prepare_libreoffice_help(HelpCorpusOptions().valid_fraction(0.3).test_fraction(0.3),
                                                       (dir / "out").string());
  torchzoo::common::set_data_dir("");
  CHECK(counts.pages == 2);  // found the trees there: no apt-get ran
  CHECK(std::filesystem::exists(dir / "out" / "train.tsv"));
}
