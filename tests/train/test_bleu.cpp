// BLEU against the sacrebleu package: golden files written by
// tests/reference/bleu_golden.py (fixture `golden`) into TORCHZOO_GOLDEN_DIR/bleu.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../support/hang_guard.h"
#include "torchzoo/train/metrics/bleu.h"

// Everything, test cases included, lives in this namespace: no using-directive
// leaks into the other files of a unity build.
namespace torchzoo::train::bleu_test {

/// Scores must equal sacreBLEU's to this (they agree to the last bit on the
/// Python this was written with; Python >= 3.12 sums floats more exactly).
constexpr double kTolerance = 1e-9;

std::string golden_path(const std::string& name) { return std::string(TORCHZOO_GOLDEN_DIR) + "/bleu/" + name; }

std::ifstream open_golden(const std::string& name) {
  std::ifstream in(golden_path(name), std::ios::binary);
  if (!in) FAIL("cannot open " << golden_path(name) << " (run tests/reference/bleu_golden.py --out DIR)");
  return in;
}

std::vector<std::string> golden_lines(const std::string& name) {
  std::ifstream in = open_golden(name);
  return read_lines(in);
}

std::string golden_text(const std::string& name) {
  std::ifstream in = open_golden(name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The string of a hex-encoded UTF-8 field ("-" is the empty string).
std::string from_hex(const std::string& hex) {
  if (hex == "-") return "";
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::vector<std::string> split(const std::string& s, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(s);
  for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
  return parts;
}

double to_double(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

std::vector<double> to_doubles(const std::string& s) {
  std::vector<double> out;
  for (const auto& part : split(s, ',')) out.push_back(to_double(part));
  return out;
}

std::vector<int64_t> to_ints(const std::string& s) {
  std::vector<int64_t> out;
  for (const auto& part : split(s, ',')) out.push_back(std::stoll(part));
  return out;
}

/// One line of results.txt: key=value fields.
std::map<std::string, std::string> parse_fields(const std::string& line) {
  std::map<std::string, std::string> fields;
  for (const auto& field : split(line, ' ')) {
    const size_t eq = field.find('=');
    fields[field.substr(0, eq)] = field.substr(eq + 1);
  }
  return fields;
}

BleuOptions options_of(const std::map<std::string, std::string>& fields) {
  BleuOptions options;
  options.lowercase = fields.at("lowercase") == "1";
  options.tokenize = fields.at("tokenize");
  options.smooth_method = fields.at("smooth_method");
  if (fields.at("smooth_value") != "none") options.smooth_value = to_double(fields.at("smooth_value"));
  options.max_ngram_order = std::stoi(fields.at("max_ngram_order"));
  options.effective_order = fields.at("effective_order") == "1";
  return options;
}

/// sacreBLEU's output with our signature's version field.
std::string with_our_version(std::string text) {
  for (const std::string from : {"version:2.6.0", "\"version\": \"2.6.0\""}) {
    const size_t at = text.find(from);
    if (at != std::string::npos) text.insert(at + from.size() - (from.back() == '"' ? 1 : 0), "+torchzoo");
  }
  return text;
}

double max_abs_diff(const std::vector<double>& got, const std::vector<double>& expected) {
  double diff = 0.0;
  for (size_t i = 0; i < got.size() && i < expected.size(); ++i) diff = std::max(diff, std::abs(got[i] - expected[i]));
  return diff;
}

TEST_CASE("corpus_bleu equals sacreBLEU on generated sets", "[bleu]") {
  const auto results = golden_lines("results.txt");
  REQUIRE(results.size() >= 30);
  double max_diff = 0.0;
  for (const std::string& line : results) {
    const auto expected = parse_fields(line);
    const std::string name = expected.at("name");
    INFO("case " << name);
    const BleuOptions options = options_of(expected);
    const auto hyps = golden_lines(name + ".hyp");
    std::vector<std::vector<std::string>> refs;
    for (int k = 0; k < std::stoi(expected.at("nrefs")); ++k) {
      refs.push_back(golden_lines(name + ".ref" + std::to_string(k)));
    }

    const BleuScore got = corpus_bleu(hyps, refs, options);
    CHECK(got.sys_len == std::stoll(expected.at("sys_len")));
    CHECK(got.ref_len == std::stoll(expected.at("ref_len")));
    CHECK(got.counts == to_ints(expected.at("counts")));
    CHECK(got.totals == to_ints(expected.at("totals")));
    REQUIRE(got.precisions.size() == to_doubles(expected.at("precisions")).size());
    const double diff = std::max({std::abs(got.score - to_double(expected.at("score"))),
                                  std::abs(got.bp - to_double(expected.at("bp"))),
                                  std::abs(got.ratio - to_double(expected.at("ratio"))),
                                  max_abs_diff(got.precisions, to_doubles(expected.at("precisions")))});
    CHECK(diff <= kTolerance);
    max_diff = std::max(max_diff, diff);
    CHECK(got.text() + "\n" == with_our_version(golden_text(name + ".text")));
    CHECK(got.json() + "\n" == with_our_version(golden_text(name + ".json")));
    for (const std::string& format : golden_lines(name + ".widths")) {
      const auto f = split(format, ' ');
      const int width = std::stoi(f[0]);
      CHECK((f[1] == "1" ? got.json(width) : got.text(width)) == with_our_version(from_hex(f[2])));
    }
  }
  INFO("max |C++ - sacreBLEU| over score, bp, ratio and precisions: " << max_diff);
  CHECK(max_diff <= kTolerance);
}

TEST_CASE("sentence_bleu equals sacreBLEU sentence_score", "[bleu]") {
  const auto cases = golden_lines("sentences.txt");
  REQUIRE(cases.size() >= 10);
  for (const std::string& line : cases) {
    const auto f = split(line, ' ');
    REQUIRE(f.size() == 9);
    const std::string hyp = from_hex(f[0]);
    std::vector<std::string> refs;
    for (const auto& ref : split(f[1], ',')) refs.push_back(from_hex(ref));
    BleuOptions options;
    options.effective_order = f[2] == "1";
    INFO("hyp '" << hyp << "' ref '" << refs[0] << "' effective_order " << f[2]);

    const BleuScore got = sentence_bleu(hyp, refs, options);
    CHECK(std::abs(got.score - to_double(f[3])) <= kTolerance);
    CHECK(std::abs(got.bp - to_double(f[4])) <= kTolerance);
    CHECK(got.sys_len == std::stoll(f[5]));
    CHECK(got.ref_len == std::stoll(f[6]));
    CHECK(max_abs_diff(got.precisions, to_doubles(f[7])) <= kTolerance);
    CHECK(got.text() == with_our_version(from_hex(f[8])));
  }
}

TEST_CASE("tokenize_13a equals sacreBLEU Tokenizer13a", "[bleu]") {
  const auto cases = golden_lines("tokenize_13a.txt");
  REQUIRE(cases.size() >= 300);
  for (const std::string& line : cases) {
    const auto f = split(line, ' ');
    REQUIRE(f.size() == 2);
    const std::string input = from_hex(f[0]);
    INFO("input '" << input << "'");
    CHECK(tokenize_13a(input) == from_hex(f[1]));
  }
  CHECK(tokenize_13a("It costs $1,000.50-ish, \"ok\"?") ==
        "It costs $ 1,000.50 - ish , \" ok \" ?");  // bleu.h's example
}

TEST_CASE("read_lines reads files as the sacrebleu CLI does", "[bleu]") {
  const auto got = golden_lines("read_lines.raw");
  const auto expected = golden_lines("read_lines.txt");
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("line " << i + 1);
    CHECK(got[i] == from_hex(expected[i]));
  }

  std::istringstream empty(""), one_newline("\n"), no_final_newline("a\nb");
  CHECK(read_lines(empty).empty());
  CHECK(read_lines(one_newline) == std::vector<std::string>{""});
  CHECK(read_lines(no_final_newline) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("read_lines rejects invalid UTF-8 naming the file and line", "[bleu]") {
  std::istringstream in("fine\nbad \xC3\x28 byte\n");
  CHECK_THROWS_WITH(read_lines(in, "hyp.de"),
                    Catch::Contains("hyp.de:2: not valid UTF-8 (byte 5 of the line is 0xc3)"));
}

TEST_CASE("unicode_lower equals Python str.lower on every code point", "[bleu]") {
  const auto encode = [](char32_t cp) {
    std::string s;  // UTF-8 of cp, without the library's helpers
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    } else if (cp < 0x10000) {
      s += {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
            static_cast<char>(0x80 | (cp & 0x3F))};
    } else {
      s += {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
            static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    }
    return s;
  };
  std::map<char32_t, std::string> changed;
  for (const std::string& line : golden_lines("lower_map.txt")) {
    const auto f = split(line, ' ');
    changed[static_cast<char32_t>(std::stoul(f[0], nullptr, 16))] = from_hex(f[1]);
  }
  REQUIRE(changed.size() > 1400);

  // The final-sigma classes, probed as bleu_golden.py probes Python.
  const std::string sigma = "\xCE\xA3", final_sigma = "\xCF\x82";
  const auto ends_in_final_sigma = [&](const std::string& s) {
    const std::string lower = unicode_lower(s);
    return lower.size() >= 2 && lower.compare(lower.size() - 2, 2, final_sigma) == 0;
  };
  std::vector<std::string> sigma_ranges;
  char32_t range_first = 0, range_last = 0;
  char range_kind = 0;
  const auto close_range = [&] {
    if (range_kind != 0) {
      std::ostringstream line;
      line << std::uppercase << std::hex << range_first << ' ' << range_last << ' ' << range_kind;
      sigma_ranges.push_back(line.str());
    }
    range_kind = 0;
  };

  int64_t mismatches = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;  // surrogates: not valid UTF-8
    const std::string c = encode(cp);
    const auto it = changed.find(cp);
    if (unicode_lower(c) != (it == changed.end() ? c : it->second)) {
      ++mismatches;
      UNSCOPED_INFO("U+" << std::hex << static_cast<uint32_t>(cp));
    }
    const bool after_cased = ends_in_final_sigma("A" + c + sigma), alone = ends_in_final_sigma(c + sigma);
    const char kind = after_cased && !alone ? 'I' : alone ? 'C' : 0;
    if (kind != 0 && kind == range_kind && cp == range_last + 1) {
      range_last = cp;
    } else {
      close_range();
      range_first = range_last = cp;
      range_kind = kind;
    }
  }
  close_range();
  CHECK(mismatches == 0);
  CHECK(sigma_ranges == golden_lines("sigma_classes.txt"));

  CHECK(unicode_lower("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3") == "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82");  // ΟΔΟΣ -> οδος
  CHECK(unicode_lower("bad \xFF byte \xC3") == "bad \xFF byte \xC3");  // invalid UTF-8 is kept
}

TEST_CASE("corpus_bleu rejects streams of different lengths", "[bleu]") {
  const std::vector<std::string> hyps = {"a b c d", "e f g h", "i j k l"};
  CHECK_THROWS_WITH(corpus_bleu(hyps, {{"a b c d", "e f g h"}}),
                    Catch::Contains("reference stream 0 has 2 lines") && Catch::Contains("3 hypothesis lines"));
  CHECK_THROWS_WITH(corpus_bleu(hyps, {hyps, {"x"}}),
                    Catch::Contains("reference stream 1 has 1 lines") && Catch::Contains("3 hypothesis lines"));
  CHECK_THROWS_WITH(corpus_bleu({}, {{}}), Catch::Contains("no hypotheses"));
  CHECK_THROWS_WITH(corpus_bleu(hyps, {}), Catch::Contains("no reference streams"));
  CHECK_THROWS_WITH(sentence_bleu("a", {}), Catch::Contains("no references"));
}

TEST_CASE("corpus_bleu rejects unknown options and lists the known ones", "[bleu]") {
  BleuOptions options;
  options.tokenize = "intl";
  CHECK_THROWS_WITH(corpus_bleu({"a"}, {{"a"}}, options),
                    Catch::Contains("unknown tokenize 'intl' (supported: 13a, none)"));
  options = {};
  options.smooth_method = "add-one";
  CHECK_THROWS_WITH(corpus_bleu({"a"}, {{"a"}}, options),
                    Catch::Contains("unknown smooth_method 'add-one' (supported: exp, none, floor, add-k)"));
  options = {};
  options.max_ngram_order = 0;
  CHECK_THROWS_WITH(corpus_bleu({"a"}, {{"a"}}, options), Catch::Contains("max_ngram_order must be at least 1, got 0"));
}

TEST_CASE("BLEU statistics of shards add up to those of the corpus", "[bleu]") {
  const auto hyps = golden_lines("random_1000.hyp");
  const auto refs = golden_lines("random_1000.ref0");
  const size_t half = hyps.size() / 2;
  const auto first = corpus_statistics({hyps.begin(), hyps.begin() + half}, {{refs.begin(), refs.begin() + half}});
  const auto second = corpus_statistics({hyps.begin() + half, hyps.end()}, {{refs.begin() + half, refs.end()}});
  BleuStatistics sum = first;
  sum.sys_len += second.sys_len;
  sum.ref_len += second.ref_len;
  for (size_t n = 0; n < sum.counts.size(); ++n) {
    sum.counts[n] += second.counts[n];
    sum.totals[n] += second.totals[n];
  }
  CHECK(bleu_from_statistics(sum).score == corpus_bleu(hyps, {refs}).score);
}

TEST_CASE("bleu signature and text follow the sacreBLEU format", "[bleu]") {
  BleuOptions options;
  CHECK(bleu_signature(options, 1) == "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0+torchzoo");
  options.lowercase = true;
  options.effective_order = true;
  options.tokenize = "none";
  options.smooth_method = "floor";
  CHECK(bleu_signature(options, 2) == "nrefs:2|case:lc|eff:yes|tok:none|smooth:floor[0.10]|version:2.6.0+torchzoo");
  options.smooth_method = "add-k";
  options.smooth_value = 0.5;
  CHECK(bleu_signature(options, 1).find("smooth:add-k[0.50]") != std::string::npos);

  const BleuScore perfect = corpus_bleu({"the cat sat on the mat"}, {{"the cat sat on the mat"}});
  CHECK(perfect.text() ==
        "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0+torchzoo = 100.0 100.0/100.0/100.0/100.0 "
        "(BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)");
  CHECK(perfect.text(2).find(" = 100.00 ") != std::string::npos);
}

TEST_CASE("corpus_bleu scores 3000 lines without a quadratic slip (a hang guard, bench/ judges speed)", "[bleu]") {
  const auto hyps = golden_lines("random_3000.hyp");
  const auto refs = golden_lines("random_3000.ref0");
  REQUIRE(hyps.size() == 3000);
  // Processor time, not wall time: a loaded test machine must not fail this.
  const std::clock_t start = std::clock();
  const BleuScore score = corpus_bleu(hyps, {refs});
  const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  INFO("3000 lines (" << score.sys_len << " hypothesis tokens), processor time");
  CHECK(score.sys_len > 0);
  CHECK_NO_HANG(seconds, 0.1);  // 0.05 s on a Xeon; quadratic in the lines would take minutes
}

}  // namespace torchzoo::train::bleu_test
