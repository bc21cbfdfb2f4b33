#include "torchzoo/data/labeled_text.h"

#include <algorithm>
#include <set>

#include "torchzoo/data/text_file.h"
#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"

namespace torchzoo::data {

std::vector<LabeledText> read_labeled_tsv(const std::string& path, InvalidUtf8 invalid_utf8, int64_t* skipped) {
  const std::string content = read_text_file(path, "labeled text");
  const auto lines = split_lines(content);
  Utf8LineCheck utf8(path, invalid_utf8);
  std::vector<LabeledText> examples;
  examples.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (!utf8.accept(line, i + 1)) continue;
    const size_t fields = 1 + static_cast<size_t>(std::count(line.begin(), line.end(), '\t'));
    TORCHZOO_CHECK(!line.empty(), "{}:{}: expected 2 tab-separated fields (label<TAB>text), got an empty line", path,
                   i + 1);
    TORCHZOO_CHECK(fields == 2, "{}:{}: expected 2 tab-separated fields (label<TAB>text), got {}", path, i + 1, fields);
    const size_t tab = line.find('\t');
    TORCHZOO_CHECK(tab > 0, "{}:{}: expected a label before the tab, got an empty one", path, i + 1);
    examples.push_back({std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))});
  }
  if (skipped != nullptr) *skipped = utf8.skipped();
  return examples;
}

void write_labeled_tsv(const std::string& path, const std::vector<LabeledText>& examples) {
  std::string content;
  for (size_t i = 0; i < examples.size(); ++i) {
    const auto& e = examples[i];
    TORCHZOO_CHECK(!e.label.empty() && !has_tab_or_line_break(e.label) && !has_tab_or_line_break(e.text),
                   "write_labeled_tsv('{}'): example {} has an empty label or holds a tab or line break, which TSV "
                   "cannot carry: label '{}', text '{}'",
                   path, i, e.label, e.text);
    content += e.label;
    content += '\t';
    content += e.text;
    content += '\n';
  }
  common::write_file_atomically(path, content, "write_labeled_tsv");
}

std::vector<std::string> sorted_labels(const std::vector<LabeledText>& examples) {
  std::set<std::string> labels;
  for (const auto& e : examples) labels.insert(e.label);
  return {labels.begin(), labels.end()};
}

}  // namespace torchzoo::data
