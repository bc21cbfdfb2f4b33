#include "torchzoo/tools/libreoffice_help.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <string_view>
#include <unordered_map>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"
#include "torchzoo/common/data_dir.h"
#include "torchzoo/common/progress_bar.h"
#include "torchzoo/common/utf8.h"
#include "torchzoo/data/text_file.h"

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// HTML scanning. A tokenizer (text, start tags, end tags) that knows just
// enough HTML for machine-written pages; the paragraph extractor below it.
// Helpers live in a named namespace: the unity build compiles several .cpp
// files as one, where anonymous namespaces would share names.
namespace torchzoo::data::help_html {
namespace {

enum class TokenKind { kText, kStartTag, kEndTag, kEnd };

struct Attribute {
  std::string name;        // lowercased
  std::string_view value;  // as written (entities not unescaped)
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // kText: the raw text
  std::string name;       // tags: the name, lowercased
  std::vector<Attribute> attributes;
  bool self_closing = false;  // "<br/>"

  const Attribute* attribute(std::string_view wanted) const {
    for (const auto& a : attributes) {
      if (a.name == wanted) return &a;
    }
    return nullptr;
  }
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_nocase(std::string_view text, size_t pos, std::string_view prefix) {
  if (text.size() - pos < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (to_lower(text[pos + i]) != prefix[i]) return false;
  }
  return true;
}

/// Splits HTML into tokens, skipping comments, <!...>/<?...> declarations and
/// the contents of <script> and <style>. Never throws: malformed input gives
/// text tokens (a '<' that starts no tag is text) or a tag cut at the end.
class Scanner {
 public:
  explicit Scanner(std::string_view html) : html_(html) {}

  Token next() {
    while (pos_ < html_.size()) {
      if (html_[pos_] != '<') return text_until_tag();
      const char after = pos_ + 1 < html_.size() ? html_[pos_ + 1] : '\0';
      if (html_.compare(pos_, 4, "<!--") == 0) {
        skip_past("-->", pos_ + 4);
      } else if (after == '!' || after == '?' ||
                 (after == '/' && !is_alpha(pos_ + 2 < html_.size() ? html_[pos_ + 2] : '\0'))) {
        skip_past(">", pos_ + 2);  // declaration, processing instruction, or "</>"-like junk
      } else if (after == '/') {
        return tag(TokenKind::kEndTag, pos_ + 2);
      } else if (is_alpha(after)) {
        return tag(TokenKind::kStartTag, pos_ + 1);
      } else {
        return text_until_tag(/*at_least=*/1);  // a lone '<' is text
      }
    }
    return Token{};
  }

 private:
  Token text_until_tag(size_t at_least = 0) {
    const size_t end = std::min(html_.find('<', pos_ + at_least), html_.size());
    Token token;
    token.kind = TokenKind::kText;
    token.text = html_.substr(pos_, end - pos_);
    pos_ = end;
    return token;
  }

  void skip_past(std::string_view terminator, size_t from) {
    const size_t end = html_.find(terminator, std::min(from, html_.size()));
    pos_ = end == std::string_view::npos ? html_.size() : end + terminator.size();
  }

  /// A tag whose name starts at `p`: name, attributes (values quoted with " or
  /// ', or unquoted), an optional '/' before the closing '>'.
  Token tag(TokenKind kind, size_t p) {
    Token token;
    token.kind = kind;
    while (p < html_.size() && !is_space(html_[p]) && html_[p] != '/' && html_[p] != '>') {
      token.name += to_lower(html_[p++]);
    }
    while (p < html_.size() && html_[p] != '>') {
      if (is_space(html_[p])) {
        ++p;
        continue;
      }
      if (html_[p] == '/') {
        token.self_closing = p + 1 < html_.size() && html_[p + 1] == '>';
        ++p;
        continue;
      }
      Attribute attribute;
      while (p < html_.size() && !is_space(html_[p]) && html_[p] != '/' && html_[p] != '>' && html_[p] != '=') {
        attribute.name += to_lower(html_[p++]);
      }
      while (p < html_.size() && is_space(html_[p])) ++p;
      if (p < html_.size() && html_[p] == '=') {
        ++p;
        while (p < html_.size() && is_space(html_[p])) ++p;
        if (p < html_.size() && (html_[p] == '"' || html_[p] == '\'')) {
          const size_t close = html_.find(html_[p], p + 1);
          const size_t end = close == std::string_view::npos ? html_.size() : close;
          attribute.value = html_.substr(p + 1, end - p - 1);
          p = std::min(end + 1, html_.size());
        } else {
          const size_t start = p;
          while (p < html_.size() && !is_space(html_[p]) && html_[p] != '>') ++p;
          attribute.value = html_.substr(start, p - start);
        }
      }
      if (attribute.name.empty()) {
        ++p;  // e.g. a stray '=': skip it, keep scanning
      } else if (kind == TokenKind::kStartTag) {
        token.attributes.push_back(std::move(attribute));
      }
    }
    pos_ = std::min(p + 1, html_.size());
    if (kind == TokenKind::kStartTag && !token.self_closing && (token.name == "script" || token.name == "style")) {
      skip_raw_text(token.name);
    }
    return token;
  }

  /// Moves to the "</script" (or "</style") that ends a raw-text element.
  void skip_raw_text(const std::string& name) {
    const std::string end_tag = "</" + name;
    for (size_t p = html_.find("</", pos_); p != std::string_view::npos; p = html_.find("</", p + 2)) {
      if (starts_with_nocase(html_, p, end_tag)) {
        pos_ = p;
        return;
      }
    }
    pos_ = html_.size();
  }

  std::string_view html_;
  size_t pos_ = 0;
};

/// Appends `code_point` as UTF-8, U+FFFD in place of NUL, surrogates and out-of-range values, as
/// HTML does for such character references.
void append_html_code_point(uint32_t code_point, std::string& out) {
  const bool replaced = code_point == 0 || !common::is_scalar_value(code_point);
  common::append_utf8(out, replaced ? char32_t{0xFFFD} : char32_t{code_point});
}

/// The code point of a named entity (without '&' and ';'), or 0 when unknown.
/// The XML five, &nbsp;, and typographic ones that translators type; the help
/// pages themselves use only &amp; &lt; &gt;.
uint32_t named_entity(std::string_view name) {
  static const std::unordered_map<std::string_view, uint32_t> kEntities = {
      {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},    {"nbsp", 0xA0},
      {"shy", 0xAD},     {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"deg", 0xB0},     {"times", 0xD7},
      {"middot", 0xB7},  {"laquo", 0xAB},   {"raquo", 0xBB},   {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026},
      {"bull", 0x2022},  {"euro", 0x20AC},  {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"ldquo", 0x201C},
      {"rdquo", 0x201D}, {"bdquo", 0x201E}, {"rarr", 0x2192},  {"larr", 0x2190},
  };
  const auto it = kEntities.find(name);
  return it == kEntities.end() ? 0 : it->second;
}

/// Appends `text` to `out` with character references replaced: "&name;",
/// "&#NNN;", "&#xHH;". A '&' that starts no complete, known reference is kept.
void append_unescaped(std::string_view text, std::string& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) break;
    out.append(text.substr(pos, amp - pos));
    pos = amp + 1;
    const size_t semicolon = text.find(';', amp + 1);
    if (semicolon == std::string_view::npos || semicolon - amp > 32) {
      out += '&';
      continue;
    }
    const std::string_view body = text.substr(amp + 1, semicolon - amp - 1);
    uint32_t code_point = 0;
    bool valid = !body.empty();
    if (valid && body[0] == '#') {
      const bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
      const std::string_view digits = body.substr(hex ? 2 : 1);
      valid = !digits.empty();
      uint64_t value = 0;
      for (const char c : digits) {
        const int digit = std::isdigit(static_cast<unsigned char>(c))           ? c - '0'
                          : hex && std::isxdigit(static_cast<unsigned char>(c)) ? 10 + to_lower(c) - 'a'
                                                                                : -1;
        if (digit < 0) {
          valid = false;
          break;
        }
        value = std::min<uint64_t>(value * (hex ? 16 : 10) + static_cast<uint64_t>(digit), 0x110000);
      }
      code_point = static_cast<uint32_t>(value);
    } else if (valid) {
      code_point = named_entity(body);
      valid = code_point != 0;
    }
    if (!valid) {
      out += '&';
      continue;
    }
    append_html_code_point(code_point, out);
    pos = semicolon + 1;
  }
  out.append(text.substr(pos));
}

/// Collapses runs of ASCII whitespace to one space and trims both ends.
std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (const char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out += c;
    }
  }
  return out;
}

/// Elements with no end tag.
bool is_void(const std::string& name) {
  static const std::array<std::string_view, 14> kVoid = {"area",  "base", "br",   "col",   "embed",  "hr",    "img",
                                                         "input", "link", "meta", "param", "source", "track", "wbr"};
  return std::find(kVoid.begin(), kVoid.end(), name) != kVoid.end();
}

/// Elements whose text flows into the surrounding sentence: no space at their boundaries.
bool is_inline(const std::string& name) {
  static const std::array<std::string_view, 27> kInline = {
      "a",   "abbr", "b", "bdi", "bdo",  "big",   "cite", "code",   "data", "dfn", "em",   "font", "i", "img",
      "kbd", "mark", "q", "s",   "samp", "small", "span", "strong", "sub",  "sup", "time", "tt",   "u"};
  return name == "var" || name == "wbr" || std::find(kInline.begin(), kInline.end(), name) != kInline.end();
}

/// The elements whose id'd instances are paragraphs; "h" is a stray heading the help generator writes.
bool is_paragraph_element(const std::string& name) {
  return name == "p" || name == "h" || (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6');
}

/// Start tags that, as in HTML, end an open <p> (a subset of the spec's list).
bool closes_paragraph(const std::string& name) {
  static const std::array<std::string_view, 21> kClosers = {
      "address", "article", "aside", "blockquote", "div", "dl",  "fieldset", "footer", "form", "header", "hr",
      "li",      "main",    "nav",   "ol",         "p",   "pre", "section",  "table",  "ul",   "figure"};
  return is_paragraph_element(name) || std::find(kClosers.begin(), kClosers.end(), name) != kClosers.end();
}

/// An element inside a paragraph whose text the reader does not see: a hidden
/// switch case other than the default one.
bool is_hidden_case(const Token& token) {
  if (token.attribute("hidden") == nullptr) return false;
  const Attribute* id = token.attribute("id");
  return id == nullptr || id->value.substr(0, 7) != "default";
}

/// Collects the paragraphs of one page from its tokens, in one pass
/// (extract_help_paragraphs). Outside a paragraph only id'd paragraph start
/// tags matter; inside one, text is gathered until the paragraph ends.
class ParagraphCollector {
 public:
  void feed(const Token& token) {
    if (!open_) {
      if (token.kind == TokenKind::kStartTag) maybe_start(token);
    } else if (hidden_depth_ > 0) {
      track_hidden(token);
    } else if (token.kind == TokenKind::kText) {
      append_unescaped(token.text, raw_);
    } else if (token.kind == TokenKind::kStartTag) {
      on_start_tag(token);
    } else if (token.kind == TokenKind::kEndTag) {
      on_end_tag(token);
    }
  }

  /// The paragraphs read, the last one closed if the page ended inside it.
  std::vector<std::pair<std::string, std::string>> take() {
    if (open_) finish();
    return std::move(paragraphs_);
  }

 private:
  void maybe_start(const Token& token) {
    const Attribute* id = token.attribute("id");
    if (!is_paragraph_element(token.name) || token.self_closing || id == nullptr || id->value.empty()) return;
    open_ = true;
    element_ = token.name;
    append_unescaped(id->value, id_);
  }

  void finish() {
    paragraphs_.emplace_back(std::move(id_), collapse_whitespace(raw_));
    open_ = false;
    id_.clear();
    raw_.clear();
    inner_.clear();
    hidden_depth_ = 0;
  }

  void on_start_tag(const Token& token) {
    if (is_paragraph_element(token.name) || (element_ == "p" && closes_paragraph(token.name))) {
      finish();  // implied end of this paragraph; the new element may start the next one
      maybe_start(token);
    } else if (is_hidden_case(token) && !is_void(token.name) && !token.self_closing) {
      hidden_depth_ = 1;
      hidden_element_ = token.name;
    } else {
      if (!is_inline(token.name)) raw_ += ' ';  // <br>, <div>, ...: a word break
      if (!is_void(token.name) && !token.self_closing) inner_.push_back(token.name);
    }
  }

  void on_end_tag(const Token& token) {
    const auto it = std::find(inner_.rbegin(), inner_.rend(), token.name);
    if (it != inner_.rend()) {
      inner_.erase(std::next(it).base(), inner_.end());  // closes it and anything left open inside it
      if (!is_inline(token.name)) raw_ += ' ';
    } else if (token.name == element_ || !is_inline(token.name)) {
      finish();  // our end tag, or the end of an enclosing block, which implies ours
    } else {
      // a stray inline end tag: ignored, as browsers do
    }
  }

  /// Inside a hidden case only its end matters (same-named elements may nest in it).
  void track_hidden(const Token& token) {
    if (token.name != hidden_element_ || token.self_closing) return;
    if (token.kind == TokenKind::kStartTag) ++hidden_depth_;
    if (token.kind == TokenKind::kEndTag) --hidden_depth_;
  }

  std::vector<std::pair<std::string, std::string>> paragraphs_;
  // The paragraph being read: whether there is one, its element and id, its
  // text (entities unescaped, whitespace not yet collapsed), the elements
  // opened inside it and not yet closed, and the hidden case being skipped
  // (depth 0: none).
  bool open_ = false;
  std::string element_, id_, raw_;
  std::vector<std::string> inner_;
  int64_t hidden_depth_ = 0;
  std::string hidden_element_;
};

}  // namespace
}  // namespace torchzoo::tools::help_html

// ---------------------------------------------------------------------------
// Files and commands.
namespace torchzoo::data::help_files {
namespace {

/// Relative paths ('/'-separated) of the *.html files under `root`, sorted bytewise.
std::vector<std::string> list_pages(const fs::path& root) {
  std::vector<std::string> pages;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".html") {
      pages.push_back(entry.path().lexically_relative(root).generic_string());
    }
  }
  std::sort(pages.begin(), pages.end());
  return pages;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

/// Runs argv (searched in PATH, no shell, so no quoting issues) in folder `cwd`
/// and waits for it. Throws, naming the command, the folder and the exit status,
/// unless it exits with 0.
void run_command(const std::vector<std::string>& argv, const fs::path& cwd) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const std::string dir = cwd.string();
  const pid_t pid = ::fork();
  TORCHZOO_CHECK(pid >= 0, "LibreOffice help: cannot start `{}`: fork failed", command_line(argv));
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    TORCHZOO_CHECK(errno == EINTR, "LibreOffice help: waiting for `{}` failed", command_line(argv));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  const std::string how = WIFEXITED(status) ? fmt::format("failed with exit status {}{}", WEXITSTATUS(status),
                                                          WEXITSTATUS(status) == 127 ? " (command not found?)" : "")
                                            : fmt::format("was killed by signal {}", WTERMSIG(status));
  TORCHZOO_CHECK(false, "LibreOffice help: `{}` (in '{}') {}", command_line(argv), dir, how);
}

/// The .deb of `package` in `dir` ("<package>_<version>_all.deb"), or an empty path.
fs::path find_deb(const fs::path& dir, const std::string& package) {
  std::vector<fs::path> found;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.rfind(package + "_", 0) == 0 && entry.path().extension() == ".deb") {
        found.push_back(entry.path());
      }
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (const auto& path : found) names.push_back(path.filename().string());
  TORCHZOO_CHECK(found.size() <= 1, "LibreOffice help: several .deb files of {} in '{}' ({}); remove all but one",
                 package, dir.string(), fmt::join(names, ", "));
  return found.empty() ? fs::path() : found.front();
}

/// The language folders a package's help tree holds, for error messages.
std::string help_languages_in(const fs::path& help_dir) {
  std::vector<std::string> names;
  if (fs::is_directory(help_dir)) {
    for (const auto& entry : fs::directory_iterator(help_dir)) {
      if (entry.is_directory() && entry.path().filename() != "media") names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

const char* const kHelpSubdir = "usr/share/libreoffice/help";

}  // namespace
}  // namespace torchzoo::tools::help_files

namespace torchzoo::tools {

using namespace torchzoo::data;  // the corpus types and text files the tools fill

std::vector<std::pair<std::string, std::string>> extract_help_paragraphs(const std::string& html) {
  help_html::Scanner scanner(html);
  help_html::ParagraphCollector collector;
  for (auto token = scanner.next(); token.kind != help_html::TokenKind::kEnd; token = scanner.next()) {
    collector.feed(token);
  }
  return collector.take();
}

std::vector<std::pair<std::string, std::string>> help_page_paragraphs(const std::string& root) {
  TORCHZOO_CHECK(fs::is_directory(root), "help_page_paragraphs: help tree '{}' is not a folder", root);
  std::vector<std::pair<std::string, std::string>> paragraphs;
  for (const std::string& page : help_files::list_pages(root)) {
    for (auto& [id, text] :
         extract_help_paragraphs(read_text_file((fs::path(root) / page).string(), "LibreOffice help"))) {
      paragraphs.emplace_back(page, std::move(text));
    }
  }
  return paragraphs;
}

std::vector<std::string> help_paragraph_texts(const std::string& root) {
  std::vector<std::string> texts;
  for (auto& [page, text] : help_page_paragraphs(root)) texts.push_back(std::move(text));
  return texts;
}

std::string to_string(const CorpusCounts& counts) {
  return fmt::format(
      "pages {}\nmissing_pages {}\naligned {}\nunaligned {}\ndropped_empty {}\ndropped_identical {}\ndropped_long {}\n"
      "duplicates {}\nconflicting {}\ntrain {}\nvalid {}\ntest {}\n",
      counts.pages, counts.missing_pages, counts.aligned, counts.unaligned, counts.dropped_empty,
      counts.dropped_identical, counts.dropped_long, counts.duplicates, counts.conflicting, counts.train, counts.valid,
      counts.test);
}

CorpusSplits build_help_corpus(const std::string& src_root, const std::string& tgt_root,
                               const HelpCorpusOptions& options, CorpusCounts* counts) {
  TORCHZOO_CHECK(options.max_chars() > 0, "build_help_corpus: max_chars must be positive, got {}", options.max_chars());
  TORCHZOO_CHECK(fs::is_directory(src_root), "build_help_corpus: source help tree '{}' is not a folder", src_root);
  TORCHZOO_CHECK(fs::is_directory(tgt_root), "build_help_corpus: target help tree '{}' is not a folder", tgt_root);

  CorpusCounts c;
  std::vector<ParallelPair> kept;
  std::unordered_map<std::string, std::string> target_of_source;  // for deduplication
  const auto pages = help_files::list_pages(src_root);
  common::ProgressBar bar("aligning help pages", static_cast<int64_t>(pages.size()), "page");
  for (size_t done = 0; done < pages.size(); bar.update(static_cast<int64_t>(++done))) {
    const std::string& page = pages[done];
    const fs::path tgt_page = fs::path(tgt_root) / page;
    if (!fs::is_regular_file(tgt_page)) {
      ++c.missing_pages;
      continue;
    }
    ++c.pages;
    const auto src_paragraphs =
        extract_help_paragraphs(read_text_file((fs::path(src_root) / page).string(), "LibreOffice help"));
    const auto tgt_paragraphs = extract_help_paragraphs(read_text_file(tgt_page.string(), "LibreOffice help"));

    // Target texts by id, in document order: the k-th occurrence pairs with the source's k-th.
    std::unordered_map<std::string, std::vector<const std::string*>> tgt_by_id;
    for (const auto& [id, text] : tgt_paragraphs) tgt_by_id[id].push_back(&text);
    std::unordered_map<std::string, size_t> occurrence;
    int64_t matched = 0;
    for (const auto& [id, src] : src_paragraphs) {
      const size_t k = occurrence[id]++;
      const auto it = tgt_by_id.find(id);
      if (it == tgt_by_id.end() || k >= it->second.size()) {
        ++c.unaligned;
        continue;
      }
      ++matched;
      ++c.aligned;
      const std::string& tgt = *it->second[k];
      if (src.empty() || tgt.empty()) {
        ++c.dropped_empty;
      } else if (src == tgt) {
        ++c.dropped_identical;
      } else if (common::utf8_length(src) > options.max_chars() || common::utf8_length(tgt) > options.max_chars()) {
        ++c.dropped_long;
      } else if (const auto [seen, inserted] = target_of_source.emplace(src, tgt); !inserted) {
        ++(seen->second == tgt ? c.duplicates : c.conflicting);
      } else {
        kept.push_back({src, tgt});
      }
    }
    c.unaligned += static_cast<int64_t>(tgt_paragraphs.size()) - matched;
  }

  CorpusSplits splits = split_by_source_hash(kept, options.valid_fraction(), options.test_fraction());
  c.train = static_cast<int64_t>(splits.train.size());
  c.valid = static_cast<int64_t>(splits.valid.size());
  c.test = static_cast<int64_t>(splits.test.size());
  if (counts != nullptr) *counts = c;
  return splits;
}

std::string help_package_name(const std::string& lang) {
  const bool valid = !lang.empty() && lang.front() != '-' && std::all_of(lang.begin(), lang.end(), [](char ch) {
    return help_html::is_alpha(ch) || ch == '-';
  });
  TORCHZOO_CHECK(
      valid, "LibreOffice help: language '{}' must be ASCII letters and '-', like \"en-US\", \"de\", \"pt-BR\"", lang);
  std::string package = "libreoffice-help-";
  for (const char ch : lang) package += help_html::to_lower(ch);
  return package;
}

std::string help_cache_dir(const std::string& cache_dir) {
  return cache_dir.empty() ? common::data_path("downloads/libreoffice-help") : cache_dir;
}

std::string fetch_libreoffice_help(const std::string& lang, const std::string& cache_dir) {
  const std::string package = help_package_name(lang);
  const fs::path cache(help_cache_dir(cache_dir));
  const fs::path unpacked = cache / package;
  const fs::path root = unpacked / help_files::kHelpSubdir / lang;
  if (fs::is_directory(root)) return root.string();
  fs::create_directories(cache);
  const std::string suffix = fmt::format(".{}.tmp", ::getpid());  // private to this process

  fs::path deb = help_files::find_deb(cache, package);
  if (deb.empty()) {
    const fs::path download = cache / (package + ".download" + suffix);
    fs::remove_all(download);
    fs::create_directories(download);
    try {
      help_files::run_command({"apt-get", "download", package}, download);
      const fs::path got = help_files::find_deb(download, package);
      TORCHZOO_CHECK(!got.empty(), "LibreOffice help: `apt-get download {}` left no {}_*.deb in '{}'", package, package,
                     download.string());
      deb = cache / got.filename();
      fs::rename(got, deb);
    } catch (...) {
      fs::remove_all(download);
      throw;
    }
    fs::remove_all(download);
  }

  const fs::path staging = cache / (package + suffix);
  fs::remove_all(staging);
  try {
    help_files::run_command({"dpkg-deb", "-x", fs::absolute(deb).string(), fs::absolute(staging).string()}, cache);
  } catch (...) {
    fs::remove_all(staging);
    throw;
  }
  if (!fs::is_directory(staging / help_files::kHelpSubdir / lang)) {
    const std::string held = help_files::help_languages_in(staging / help_files::kHelpSubdir);
    fs::remove_all(staging);
    TORCHZOO_CHECK(false,
                   "LibreOffice help: {} has no help folder for '{}' (it holds: {}); language folders are "
                   "case-sensitive, e.g. \"en-US\", \"pt-BR\"",
                   deb.filename().string(), lang, held);
  }
  fs::remove_all(unpacked);
  std::error_code error;
  fs::rename(staging, unpacked, error);
  fs::remove_all(staging);  // left over only if another process got there first
  TORCHZOO_CHECK(fs::is_directory(root), "LibreOffice help: cannot move '{}' to '{}': {}", staging.string(),
                 unpacked.string(), error.message());
  return root.string();
}

CorpusCounts prepare_libreoffice_help(const HelpCorpusOptions& options, const std::string& out_dir) {
  TORCHZOO_CHECK(options.src_lang() != options.tgt_lang(),
                 "prepare_libreoffice_help: src_lang and tgt_lang are both '{}'", options.src_lang());
  help_package_name(options.src_lang());  // both languages are checked before anything is downloaded
  help_package_name(options.tgt_lang());
  const std::string src_root = fetch_libreoffice_help(options.src_lang(), options.cache_dir());
  const std::string tgt_root = fetch_libreoffice_help(options.tgt_lang(), options.cache_dir());
  CorpusCounts counts;
  const CorpusSplits splits = build_help_corpus(src_root, tgt_root, options, &counts);

  const fs::path out(out_dir);
  fs::create_directories(out);
  for (const auto& [name, pairs] : {std::pair<std::string, const std::vector<ParallelPair>*>{"train", &splits.train},
                                    {"valid", &splits.valid},
                                    {"test", &splits.test}}) {
    write_parallel_tsv((out / (name + ".tsv")).string(), *pairs);
    // The same split as one sentence per line and language, as sacreBLEU and `torchzoo translate` read it.
    std::string src_lines, tgt_lines;
    for (const auto& pair : *pairs) {
      src_lines += pair.src + '\n';
      tgt_lines += pair.tgt + '\n';
    }
    common::write_file_atomically((out / (name + "." + options.src_lang())).string(), src_lines, "LibreOffice help");
    common::write_file_atomically((out / (name + "." + options.tgt_lang())).string(), tgt_lines, "LibreOffice help");
  }
  const auto deb_name = [&](const std::string& lang) {
    const fs::path deb = help_files::find_deb(help_cache_dir(options.cache_dir()), help_package_name(lang));
    return deb.empty() ? std::string("unknown") : deb.filename().string();
  };
  common::write_file_atomically(
      (out / "counts.txt").string(),
      fmt::format("# LibreOffice help parallel corpus, made by torchzoo::data::prepare_libreoffice_help\n"
                  "# pairs aligned by page path + element id; split by FNV-1a 64 of the source text mod 1000\n"
                  "src_lang {}\ntgt_lang {}\nsrc_deb {}\ntgt_deb {}\nmax_chars {}\nvalid_fraction {}\n"
                  "test_fraction {}\n{}",
                  options.src_lang(), options.tgt_lang(), deb_name(options.src_lang()), deb_name(options.tgt_lang()),
                  options.max_chars(), options.valid_fraction(), options.test_fraction(), to_string(counts)),
      "LibreOffice help");
  return counts;
}

}  // namespace torchzoo::tools
