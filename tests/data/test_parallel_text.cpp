#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "../support/temp_dir.h"
#include "torchzoo/data/parallel_text.h"

using namespace torchzoo::data;

namespace {

void ptext_write(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// Catch's CHECK is a macro: a braced ParallelPair{"a", "b"} in it would read as two arguments
// wherever c10's one-argument CHECK (c10/util/logging_is_not_google_glog.h) wins.
ParallelPair ptext_pair(std::string src, std::string tgt) { return {std::move(src), std::move(tgt)}; }

std::string ptext_read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("read_parallel_tsv reads src<TAB>tgt lines with LF or CRLF ends", "[data][parallel_text]") {
  const auto dir = torchzoo::testing::fresh_dir("tsv_read");
  const auto path = dir / "corpus.tsv";
  ptext_write(path, "\xEF\xBB\xBFHello\tHallo\r\nA cat.\tEine Katze.\n\tonly target\nlast\tletzte");
  const auto pairs = read_parallel_tsv(path.string());
  REQUIRE(pairs.size() == 4);
  CHECK(pairs[0] == ptext_pair("Hello", "Hallo"));  // byte-order mark and '\r' gone
  CHECK(pairs[1] == ptext_pair("A cat.", "Eine Katze."));
  CHECK(pairs[2] == ptext_pair("", "only target"));  // empty fields are the caller's business
  CHECK(pairs[3] == ptext_pair("last", "letzte"));   // no final newline
}

TEST_CASE("read_parallel_tsv errors name the file and line", "[data][parallel_text][errors]") {
  const auto dir = torchzoo::testing::fresh_dir("tsv_errors");
  const auto path = dir / "corpus.tsv";
  ptext_write(path, "a\tb\nc\td\te\n");
  REQUIRE_THROWS_WITH(read_parallel_tsv(path.string()),
                      Catch::Contains("corpus.tsv:2: expected 2 tab-separated fields (src<TAB>tgt), got 3"));
  ptext_write(path, "a\tb\nno tab here\n");
  REQUIRE_THROWS_WITH(read_parallel_tsv(path.string()),
                      Catch::Contains("corpus.tsv:2: expected 2") && Catch::Contains("got 1"));
  ptext_write(path, "a\tb\n\nc\td\n");
  REQUIRE_THROWS_WITH(read_parallel_tsv(path.string()),
                      Catch::Contains("corpus.tsv:2:") && Catch::Contains("got an empty line"));
  REQUIRE_THROWS_WITH(read_parallel_tsv((dir / "missing.tsv").string()),
                      Catch::Contains("missing.tsv") && Catch::Contains("does not exist"));
}

TEST_CASE("read_parallel_tsv of an empty file gives no pairs", "[data][parallel_text]") {
  const auto dir = torchzoo::testing::fresh_dir("tsv_empty");
  ptext_write(dir / "empty.tsv", "");
  CHECK(read_parallel_tsv((dir / "empty.tsv").string()).empty());
}

TEST_CASE("read_parallel_files pairs line i with line i", "[data][parallel_text]") {
  const auto dir = torchzoo::testing::fresh_dir("two_files");
  ptext_write(dir / "train.en", "One.\r\n\nThree.\n");
  ptext_write(dir / "train.de", "Eins.\n\nDrei.");
  const auto pairs = read_parallel_files((dir / "train.en").string(), (dir / "train.de").string());
  REQUIRE(pairs.size() == 3);
  CHECK(pairs[0] == ptext_pair("One.", "Eins."));
  CHECK(pairs[1] == ptext_pair("", ""));  // kept: dropping it would shift the alignment
  CHECK(pairs[2] == ptext_pair("Three.", "Drei."));
}

TEST_CASE("read_parallel_files rejects files of different lengths", "[data][parallel_text][errors]") {
  const auto dir = torchzoo::testing::fresh_dir("two_files_mismatch");
  ptext_write(dir / "a.en", "1\n2\n3\n");
  ptext_write(dir / "a.de", "1\n2\n");
  REQUIRE_THROWS_WITH(
      read_parallel_files((dir / "a.en").string(), (dir / "a.de").string()),
      Catch::Contains("same number of lines") && Catch::Contains("a.en' has 3") && Catch::Contains("a.de' has 2"));
}

TEST_CASE("write_parallel_tsv round-trips and replaces the file whole", "[data][parallel_text]") {
  const auto dir = torchzoo::testing::fresh_dir("tsv_write");
  const auto path = (dir / "out.tsv").string();
  const std::vector<ParallelPair> pairs = {{"Grüße", "Greetings"}, {"a & b", "a &amp; b"}, {"", "x"}};
  write_parallel_tsv(path, pairs);
  CHECK(ptext_read(path) == "Grüße\tGreetings\na & b\ta &amp; b\n\tx\n");
  CHECK(read_parallel_tsv(path) == pairs);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  write_parallel_tsv(path, {{"new", "neu"}});
  CHECK(read_parallel_tsv(path) == std::vector<ParallelPair>(1, ptext_pair("new", "neu")));
  write_parallel_tsv(path, {});
  CHECK(ptext_read(path).empty());
}

TEST_CASE("write_parallel_tsv rejects texts TSV cannot carry and leaves the old file",
          "[data][parallel_text][errors]") {
  const auto dir = torchzoo::testing::fresh_dir("tsv_write_errors");
  const auto path = (dir / "out.tsv").string();
  write_parallel_tsv(path, {{"old", "alt"}});
  REQUIRE_THROWS_WITH(write_parallel_tsv(path, {{"ok", "ok"}, {"a\tb", "c"}}),
                      Catch::Contains("pair 1 holds a tab or line break"));
  REQUIRE_THROWS_WITH(write_parallel_tsv(path, {{"a", "line\nbreak"}}), Catch::Contains("pair 0"));
  REQUIRE_THROWS_WITH(write_parallel_tsv(path, {{"a", "carriage\rreturn"}}), Catch::Contains("pair 0"));
  CHECK(read_parallel_tsv(path) == std::vector<ParallelPair>(1, ptext_pair("old", "alt")));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("fnv1a64 matches the published test vectors", "[data][parallel_text]") {
  // From the FNV reference (http://www.isthe.com/chongo/tech/comp/fnv/): FNV-1a 64 of "" and "a", "foobar".
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ull);
  CHECK(source_bucket("foobar") == static_cast<int64_t>(0x85944171f73967e8ull % 1000));
}

TEST_CASE("split_by_source_hash: a source's split depends on the source alone", "[data][parallel_text]") {
  std::vector<ParallelPair> pairs;
  for (int i = 0; i < 5000; ++i) pairs.push_back({"sentence " + std::to_string(i), "Satz " + std::to_string(i)});
  const auto splits = split_by_source_hash(pairs, 0.1, 0.05);
  CHECK(splits.train.size() + splits.valid.size() + splits.test.size() == pairs.size());
  // About 10% and 5% (binomial: sd ~ 21 and 15).
  CHECK(splits.valid.size() > 400);
  CHECK(splits.valid.size() < 600);
  CHECK(splits.test.size() > 180);
  CHECK(splits.test.size() < 320);
  for (const auto& p : splits.valid) CHECK(source_bucket(p.src) < 100);
  for (const auto& p : splits.test) {
    CHECK(source_bucket(p.src) >= 100);
    CHECK(source_bucket(p.src) < 150);
  }

  // Dropping half the pairs, reversing the rest and adding other ones moves no pair between splits.
  std::vector<ParallelPair> other(pairs.rbegin(), pairs.rbegin() + 2500);
  for (int i = 0; i < 1000; ++i) other.push_back({"new " + std::to_string(i), "neu"});
  const auto again = split_by_source_hash(other, 0.1, 0.05);
  auto in = [](const std::vector<ParallelPair>& v, const ParallelPair& p) {
    return std::find(v.begin(), v.end(), p) != v.end();
  };
  for (int i = 0; i < 2500; i += 7) {
    const auto& p = other[static_cast<size_t>(i)];
    CHECK(in(splits.valid, p) == in(again.valid, p));
    CHECK(in(splits.test, p) == in(again.test, p));
  }
  // Order within a split is input order.
  for (size_t i = 1; i < splits.train.size(); ++i) {
    CHECK(std::stoi(splits.train[i - 1].src.substr(9)) < std::stoi(splits.train[i].src.substr(9)));
  }
}

TEST_CASE("split_by_source_hash validates the fractions", "[data][parallel_text][errors]") {
  const std::vector<ParallelPair> one = {{"a", "b"}};
  CHECK(split_by_source_hash(one, 0, 0).train.size() == 1);
  CHECK(split_by_source_hash(one, 1, 0).valid.size() == 1);
  REQUIRE_THROWS_WITH(split_by_source_hash({}, -0.1, 0.0),
                      Catch::Contains("valid_fraction must be in [0, 1], got -0.1"));
  REQUIRE_THROWS_WITH(split_by_source_hash({}, 0.0, 1.5), Catch::Contains("test_fraction must be in [0, 1], got 1.5"));
  REQUIRE_THROWS_WITH(split_by_source_hash({}, 0.6, 0.5), Catch::Contains("must be at most 1, got 0.6 + 0.5"));
}
