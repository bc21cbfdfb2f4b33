#pragma once
// Text classification data: one example per line, "label<TAB>text", in plain
// UTF-8 (the format of `torchzoo data prepare libreoffice-langid`, and one
// users can write for their own data). Line ends '\n' or "\r\n"; a UTF-8
// byte-order mark at the start is skipped. Each line holds exactly one tab: a
// stray column is an error rather than part of the text. The label (before the
// tab) must not be empty; the text may be. Empty lines are errors.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "torchzoo/data/text_file.h"

namespace torchzoo::data {

/// One example: its class label (a name, e.g. "de") and its text.
struct LabeledText {
  std::string label;
  std::string text;
};

inline bool operator==(const LabeledText& a, const LabeledText& b) { return a.label == b.label && a.text == b.text; }
/// "label\ttext", for test failure messages.
inline std::ostream& operator<<(std::ostream& out, const LabeledText& example) {
  return out << example.label << '\t' << example.text;
}

/// Reads "label<TAB>text" lines. Errors name the file and the 1-based line and
/// say what was expected, e.g. "langid.tsv:17: expected 2 tab-separated fields
/// (label<TAB>text), got 3".
///
/// Example:
///   auto examples = read_labeled_tsv(common::data_path("libreoffice-langid/train.tsv"));
std::vector<LabeledText> read_labeled_tsv(const std::string& path, InvalidUtf8 invalid_utf8 = InvalidUtf8::kError,
                                          int64_t* skipped = nullptr);

/// Writes `examples` as "label<TAB>text" lines through `path`.tmp and a
/// rename. An empty label, or a label or text holding a tab or line break, is
/// an error naming the example (0-based index).
void write_labeled_tsv(const std::string& path, const std::vector<LabeledText>& examples);

/// The distinct labels of `examples`, sorted bytewise: the class order of a
/// classifier trained on them (class i is labels[i]).
std::vector<std::string> sorted_labels(const std::vector<LabeledText>& examples);

}  // namespace torchzoo::data
