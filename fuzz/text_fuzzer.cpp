// libFuzzer target: the corpus readers -- parallel TSV, labeled TSV, two aligned
// files, plain lines -- on any bytes, under both invalid-UTF-8 policies.
// Promised: records whose fields are valid UTF-8 without '\n' (and, read from TSV,
// without tabs), or an error naming the file.
#include <sstream>

#include "fuzz_support.h"
#include "torchzoo/common/utf8.h"
#include "torchzoo/data/labeled_text.h"
#include "torchzoo/data/parallel_text.h"
#include "torchzoo/data/text_file.h"

using namespace torchzoo;

namespace {

/// A field of TSV holds no tab; a line of a plain file may.
void check_field(const std::string& field, const char* what, bool from_tsv) {
  if (common::find_invalid_utf8(field) != std::string::npos) fuzz::finding(std::string(what) + " is not valid UTF-8");
  if (field.find('\n') != std::string::npos) fuzz::finding(std::string(what) + " holds a '\\n'");
  if (from_tsv && field.find('\t') != std::string::npos) fuzz::finding(std::string(what) + " holds a tab");
}

void check_pairs(const std::vector<data::ParallelPair>& pairs, bool from_tsv) {
  for (const auto& pair : pairs) {
    check_field(pair.src, "a source", from_tsv);
    check_field(pair.tgt, "a target", from_tsv);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the reader and the policy; the rest is the file.
  const auto policy = data[0] & 1 ? data::InvalidUtf8::kSkip : data::InvalidUtf8::kError;
  const auto content = fuzz::bytes(data + 1, size - 1);
  switch ((data[0] >> 1) % 4) {
    case 0: {
      const auto path = fuzz::write_scratch("corpus.tsv", content);
      fuzz::expect_error_naming({path}, [&] { check_pairs(data::read_parallel_tsv(path, policy), true); });
      break;
    }
    case 1: {
      const auto path = fuzz::write_scratch("labeled.tsv", content);
      fuzz::expect_error_naming({path}, [&] {
        for (const auto& example : data::read_labeled_tsv(path, policy)) {
          if (example.label.empty()) fuzz::finding("an empty label");
          check_field(example.label, "a label", true);
          check_field(example.text, "a text", true);
        }
      });
      break;
    }
    case 2: {
      // Two aligned files, split at the first NUL; an error names one of them.
      const auto nul = content.find('\0');
      const auto src = fuzz::write_scratch("train.src", content.substr(0, nul));
      const auto tgt = fuzz::write_scratch("train.tgt", nul == content.npos ? "" : content.substr(nul + 1));
      fuzz::expect_error_naming({src, tgt}, [&] {
        check_pairs(data::read_parallel_files(src, tgt, policy), false);
      });
      break;
    }
    default: {
      // stdin of `torchzoo translate`: lines without their ends, any bytes kept.
      std::istringstream in{std::string(content)};
      for (const auto& line : data::read_lines(in)) {
        if (line.find('\n') != std::string::npos) fuzz::finding("read_lines kept a '\\n'");
      }
      break;
    }
  }
  return 0;
}
