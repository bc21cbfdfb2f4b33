// libFuzzer target: the BLEU tokeniser and scorer (train/metrics/bleu.h) on any bytes.
// Promised: no error for any string; valid UTF-8 in, valid UTF-8 out; a
// hypothesis scored against itself gets 100 (effective order), any other pair a
// finite score in [0, 100]; read_lines rejects invalid UTF-8 naming the input.
#include <cmath>
#include <sstream>

#include "fuzz_support.h"
#include "torchzoo/common/utf8.h"
#include "torchzoo/train/metrics/bleu.h"

using namespace torchzoo;

namespace {

bool valid(const std::string& text) { return common::find_invalid_utf8(text) == std::string::npos; }

void check_score(const train::BleuScore& bleu, const char* what) {
  if (!std::isfinite(bleu.score) || bleu.score < 0.0 || bleu.score > 100.0 + 1e-9) {
    fuzz::finding(std::string(what) + ": score " + std::to_string(bleu.score) + " outside [0, 100]");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Hypothesis, then references, separated by NULs.
  const auto parts = fuzz::split_at_nul(fuzz::bytes(data, size));
  const auto& hyp = parts[0];
  for (const auto& part : parts) {
    const auto tokens = train::tokenize_13a(part);
    const auto lower = train::unicode_lower(part);
    if (valid(part) && !valid(tokens)) fuzz::finding("tokenize_13a made valid UTF-8 invalid");
    if (valid(part) && !valid(lower)) fuzz::finding("unicode_lower made valid UTF-8 invalid");
  }

  train::BleuOptions options;
  options.effective_order = true;
  options.lowercase = size % 2 == 1;
  const auto self = train::sentence_bleu(hyp, {hyp}, options);
  if (self.sys_len > 0 && std::abs(self.score - 100.0) > 1e-9) {
    fuzz::finding("a hypothesis scored " + std::to_string(self.score) + " against itself");
  }
  if (parts.size() > 1) {
    const std::vector<std::string> refs(parts.begin() + 1, parts.end());
    check_score(train::sentence_bleu(hyp, refs, options), "sentence_bleu");
    std::vector<std::vector<std::string>> streams;
    for (const auto& ref : refs) streams.push_back({ref});
    check_score(train::corpus_bleu({hyp}, streams), "corpus_bleu");
  }

  // Files as sacrebleu reads them.
  std::istringstream in{std::string(fuzz::bytes(data, size))};
  fuzz::expect_error_naming({"fuzz input"}, [&] {
    for (const auto& line : train::read_lines(in, "fuzz input")) {
      if (!valid(line)) fuzz::finding("read_lines returned invalid UTF-8");
    }
  });
  return 0;
}
