#include "torchzoo/data/wordpiece_tokenizer.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>
#include <utility>

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>
#include <nlohmann/json.hpp>

#include "torchzoo/common/check.h"
#include "torchzoo/common/utf8.h"

namespace torchzoo::data {
namespace {

using nlohmann::json;

/// The code points of UTF-8 text; an invalid byte reads as U+FFFD.
std::vector<char32_t> code_points(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto cp = common::decode_utf8(text, i);
    if (cp.length == 0) {
      out.push_back(U'\uFFFD');
      ++i;
    } else {
      out.push_back(cp.value);
      i += cp.length;
    }
  }
  return out;
}

// The tokenizers library's character classes (normalizers/bert.rs, pre_tokenizers/bert.rs).

bool is_whitespace(char32_t c) { return c == U'\t' || c == U'\n' || c == U'\r' || u_isUWhiteSpace(c); }

/// Unicode's "Other" categories (Cc, Cf, Cn, Co, Cs), tab, newline and return excepted.
bool is_control(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_UNASSIGNED:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      return true;
    default:
      return false;
  }
}

/// The CJK Unified Ideographs blocks and their extensions and compatibility forms, as BERT defines them.
bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/// ASCII punctuation, or one of Unicode's P* categories.
bool is_punctuation(char32_t c) {
  if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return u_ispunct(c);
}

/// `c` lowercased with Unicode's full (unconditional) case mapping: one code point may become several.
void append_lowercase(std::u32string& out, char32_t c) {
  UChar in[2];
  int32_t in_length = 0;
  U16_APPEND_UNSAFE(in, in_length, c);
  UChar lowered[8];
  UErrorCode status = U_ZERO_ERROR;
  const int32_t length = u_strToLower(lowered, 8, in, in_length, "", &status);
  if (U_FAILURE(status) || length > 8) {  // no code point maps to more than three
    out.push_back(c);
    return;
  }
  for (int32_t i = 0; i < length;) {
    UChar32 cp;
    U16_NEXT(lowered, i, length, cp);
    out.push_back(static_cast<char32_t>(cp));
  }
}

std::string to_utf8(const std::u32string& text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) common::append_utf8(out, common::is_scalar_value(c) ? c : U'\uFFFD');
  return out;
}

/// NFD, then without nonspacing marks (Mn).
std::u32string strip_accents(const std::u32string& text) {
  icu::UnicodeString u;
  for (char32_t c : text) u.append(static_cast<UChar32>(c));
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  TORCHZOO_CHECK(U_SUCCESS(status), "WordPiece: ICU has no NFD normaliser ({})", u_errorName(status));
  const icu::UnicodeString decomposed = nfd->normalize(u, status);
  TORCHZOO_CHECK(U_SUCCESS(status), "WordPiece: NFD failed ({})", u_errorName(status));
  std::u32string out;
  out.reserve(text.size());
  for (int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    if (u_charType(c) != U_NON_SPACING_MARK) out.push_back(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
  return out;
}

// Reading tokenizer.json.

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& message) {
  TORCHZOO_CHECK(false, "{}: {}: {}", source, key, message);
  throw;  // not reached
}

const json& member(const json& object, const std::string& name, const std::string& source, const std::string& key) {
  if (!object.is_object() || !object.contains(name)) fail(source, key, "missing");
  return object.at(name);
}

std::string string_at(const json& value, const std::string& source, const std::string& key) {
  if (!value.is_string()) fail(source, key, fmt::format("expected a string, got {}", value.dump()));
  return value.get<std::string>();
}

bool bool_at(const json& object, const std::string& name, bool fallback, const std::string& source,
             const std::string& key) {
  if (!object.contains(name)) return fallback;
  const auto& value = object.at(name);
  if (!value.is_boolean()) fail(source, key, fmt::format("expected true or false, got {}", value.dump()));
  return value.get<bool>();
}

int64_t int_at(const json& value, const std::string& source, const std::string& key, int64_t low, int64_t high) {
  if (!value.is_number_integer() || value.get<int64_t>() < low || value.get<int64_t>() > high) {
    fail(source, key, fmt::format("expected an integer in [{}, {}], got {}", low, high, value.dump()));
  }
  return value.get<int64_t>();
}

void expect_type(const json& section, const std::string& type, const std::string& source, const std::string& key) {
  const auto got = string_at(member(section, "type", source, key + ".type"), source, key + ".type");
  if (got != type) {
    fail(source, key + ".type", fmt::format("torchzoo's WordPiece reads only {}, got {}", type, got));
  }
}

/// {"SpecialToken": {"id": "[CLS]", "type_id": 0}} or {"Sequence": {"id": "A", "type_id": 0}} ->
/// ("special" or "sequence", id, type_id).
std::tuple<std::string, std::string, int64_t> template_piece(const json& piece, const std::string& source,
                                                             const std::string& key) {
  for (const char* kind : {"SpecialToken", "Sequence"}) {
    if (piece.is_object() && piece.contains(kind)) {
      const auto& body = piece.at(kind);
      return {kind, string_at(member(body, "id", source, key), source, key + "." + kind + ".id"),
              body.contains("type_id") ? int_at(body.at("type_id"), source, key + ".type_id", 0, 1) : 0};
    }
  }
  fail(source, key, fmt::format("expected {{\"SpecialToken\": ...}} or {{\"Sequence\": ...}}, got {}", piece.dump()));
}

/// The [CLS] $A [SEP] (and [CLS] $A [SEP] $B:1 [SEP]:1) template: its two special tokens.
std::pair<std::string, std::string> read_template(const json& processor, const std::string& source) {
  const std::string key = "post_processor";
  const auto type = string_at(member(processor, "type", source, key + ".type"), source, key + ".type");
  if (type == "BertProcessing") {
    const auto& cls = member(processor, "cls", source, key + ".cls");
    const auto& sep = member(processor, "sep", source, key + ".sep");
    if (!cls.is_array() || cls.empty() || !sep.is_array() || sep.empty()) {
      fail(source, key, "expected cls and sep as [token, id]");
    }
    return {string_at(cls[0], source, key + ".cls[0]"), string_at(sep[0], source, key + ".sep[0]")};
  }
  if (type != "TemplateProcessing") {
    fail(source, key + ".type",
         fmt::format("torchzoo's WordPiece reads TemplateProcessing or BertProcessing, got {}", type));
  }
  const auto& single = member(processor, "single", source, key + ".single");
  const auto& pair = member(processor, "pair", source, key + ".pair");
  const std::string expected = "the BERT template [CLS] $A [SEP] and [CLS] $A [SEP] $B:1 [SEP]:1";
  if (!single.is_array() || single.size() != 3 || !pair.is_array() || pair.size() != 5) {
    fail(source, key, "expected " + expected);
  }
  const auto [k0, cls, t0] = template_piece(single[0], source, key + ".single[0]");
  const auto [k1, a, t1] = template_piece(single[1], source, key + ".single[1]");
  const auto [k2, sep, t2] = template_piece(single[2], source, key + ".single[2]");
  bool bert = k0 == "SpecialToken" && k1 == "Sequence" && a == "A" && k2 == "SpecialToken" && t0 + t1 + t2 == 0;
  const std::tuple<std::string, std::string, int64_t> want[5] = {{"SpecialToken", cls, 0},
                                                                 {"Sequence", "A", 0},
                                                                 {"SpecialToken", sep, 0},
                                                                 {"Sequence", "B", 1},
                                                                 {"SpecialToken", sep, 1}};
  for (size_t i = 0; i < 5 && bert; ++i) {
    bert = template_piece(pair[i], source, fmt::format("{}.pair[{}]", key, i)) == want[i];
  }
  if (!bert) fail(source, key, "expected " + expected);
  return {cls, sep};
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCHZOO_CHECK(in.good(), "WordPiece: cannot open {} (a Hugging Face tokenizer.json)", path);
  std::stringstream text;
  text << in.rdbuf();
  return from_json(text.str(), path);
}

WordPieceTokenizer WordPieceTokenizer::from_json(const std::string& json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& error) {
    TORCHZOO_CHECK(false, "{}: not JSON: {}", source, error.what());
  }
  if (!root.is_object()) fail(source, "(top level)", "expected a tokenizer.json object");
  WordPieceTokenizer tok;
  auto& o = tok.options_;

  const auto& normalizer = member(root, "normalizer", source, "normalizer");
  expect_type(normalizer, "BertNormalizer", source, "normalizer");
  o.clean_text = bool_at(normalizer, "clean_text", true, source, "normalizer.clean_text");
  o.handle_chinese_chars = bool_at(normalizer, "handle_chinese_chars", true, source, "normalizer.handle_chinese_chars");
  o.lowercase = bool_at(normalizer, "lowercase", true, source, "normalizer.lowercase");
  o.strip_accents = normalizer.contains("strip_accents") && !normalizer.at("strip_accents").is_null()
                        ? bool_at(normalizer, "strip_accents", o.lowercase, source, "normalizer.strip_accents")
                        : o.lowercase;
  expect_type(member(root, "pre_tokenizer", source, "pre_tokenizer"), "BertPreTokenizer", source, "pre_tokenizer");

  const auto& model = member(root, "model", source, "model");
  expect_type(model, "WordPiece", source, "model");
  o.unk_token = string_at(member(model, "unk_token", source, "model.unk_token"), source, "model.unk_token");
  if (model.contains("continuing_subword_prefix")) {
    o.continuing_subword_prefix =
        string_at(model.at("continuing_subword_prefix"), source, "model.continuing_subword_prefix");
  }
  if (model.contains("max_input_chars_per_word")) {
    o.max_input_chars_per_word =
        int_at(model.at("max_input_chars_per_word"), source, "model.max_input_chars_per_word", 1, INT32_MAX);
  }
  const auto& vocab = member(model, "vocab", source, "model.vocab");
  if (!vocab.is_object() || vocab.empty()) fail(source, "model.vocab", "expected an object of piece: id");
  const auto size = static_cast<int64_t>(vocab.size());
  tok.pieces_.assign(size, std::string());
  std::vector<bool> seen(size, false);
  for (const auto& [piece, id_value] : vocab.items()) {
    const auto id = int_at(id_value, source, "model.vocab." + piece, 0, size - 1);
    if (seen[id]) fail(source, "model.vocab." + piece, fmt::format("id {} is given twice", id));
    seen[id] = true;
    tok.pieces_[id] = piece;
    tok.vocab_.emplace(piece, id);
  }

  tok.special_.assign(size, false);
  if (root.contains("added_tokens") && !root.at("added_tokens").is_null()) {
    const auto& added = root.at("added_tokens");
    if (!added.is_array()) fail(source, "added_tokens", "expected an array");
    for (size_t i = 0; i < added.size(); ++i) {
      const auto key = fmt::format("added_tokens[{}]", i);
      const auto content = string_at(member(added[i], "content", source, key + ".content"), source, key + ".content");
      const auto id = int_at(member(added[i], "id", source, key + ".id"), source, key + ".id", 0, size - 1);
      if (tok.pieces_[id] != content) {
        fail(source, key, fmt::format("id {} is '{}' in model.vocab, not '{}'", id, tok.pieces_[id], content));
      }
      if (content.empty()) fail(source, key + ".content", "expected a non-empty token");
      tok.added_tokens_.push_back(content);
      tok.added_ids_.push_back(id);
      tok.special_[id] = bool_at(added[i], "special", false, source, key + ".special");
    }
    // Longest first, so that a token that begins another is tried after it.
    std::vector<size_t> order(tok.added_tokens_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return tok.added_tokens_[a].size() > tok.added_tokens_[b].size(); });
    std::vector<std::string> tokens;
    std::vector<int64_t> ids;
    for (size_t i : order) {
      tokens.push_back(tok.added_tokens_[i]);
      ids.push_back(tok.added_ids_[i]);
    }
    tok.added_tokens_ = std::move(tokens);
    tok.added_ids_ = std::move(ids);
  }

  std::tie(o.cls_token, o.sep_token) = read_template(member(root, "post_processor", source, "post_processor"), source);
  if (root.contains("truncation") && !root.at("truncation").is_null()) {
    const auto& truncation = root.at("truncation");
    o.max_length = int_at(member(truncation, "max_length", source, "truncation.max_length"), source,
                          "truncation.max_length", 3, INT32_MAX);
    if (truncation.contains("strategy")) {
      const auto strategy = string_at(truncation.at("strategy"), source, "truncation.strategy");
      if (strategy != "LongestFirst") {
        fail(source, "truncation.strategy",
             fmt::format("torchzoo's WordPiece truncates LongestFirst, got {}", strategy));
      }
    }
    if (truncation.contains("direction") &&
        string_at(truncation.at("direction"), source, "truncation.direction") != "Right") {
      fail(source, "truncation.direction", "torchzoo's WordPiece truncates on the right");
    }
  }
  if (root.contains("padding") && root.at("padding").is_object() && root.at("padding").contains("pad_token")) {
    o.pad_token = string_at(root.at("padding").at("pad_token"), source, "padding.pad_token");
  }
  tok.require_token(o.unk_token, source, "model.unk_token", tok.unk_id_);
  tok.require_token(o.cls_token, source, "post_processor", tok.cls_id_);
  tok.require_token(o.sep_token, source, "post_processor", tok.sep_id_);
  tok.require_token(o.pad_token, source, "padding.pad_token", tok.pad_id_);
  return tok;
}

void WordPieceTokenizer::require_token(const std::string& token, const std::string& source, const char* key,
                                       int64_t& id) const {
  id = token_to_id(token);
  if (id < 0) fail(source, key, fmt::format("'{}' is not in model.vocab", token));
}

void WordPieceTokenizer::set_max_length(int64_t max_length) {
  TORCHZOO_CHECK(max_length == 0 || max_length >= 3,
                 "WordPiece: max_length must be 0 (no truncation) or at least 3 ([CLS] x [SEP]), got {}", max_length);
  options_.max_length = max_length;
}

std::string WordPieceTokenizer::normalize(std::string_view text) const {
  const auto& o = options_;
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : code_points(text)) {
    if (o.clean_text) {
      if (c == 0 || c == U'\uFFFD' || is_control(c)) continue;
      if (is_whitespace(c)) c = U' ';
    }
    if (o.handle_chinese_chars && is_chinese_char(c)) {
      out.push_back(U' ');
      out.push_back(c);
      out.push_back(U' ');
    } else {
      out.push_back(c);
    }
  }
  if (o.strip_accents) out = strip_accents(out);
  if (o.lowercase) {
    std::u32string lowered;
    lowered.reserve(out.size());
    for (char32_t c : out) append_lowercase(lowered, c);
    out = std::move(lowered);
  }
  return to_utf8(out);
}

std::vector<std::string> WordPieceTokenizer::pre_tokenize(std::string_view normalized) const {
  std::vector<std::string> words;
  std::string word;
  const auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (char32_t c : code_points(normalized)) {
    if (u_isUWhiteSpace(c)) {
      flush();
    } else if (is_punctuation(c)) {
      flush();
      common::append_utf8(word, c);
      flush();
    } else {
      common::append_utf8(word, c);
    }
  }
  flush();
  return words;
}

std::vector<std::string> WordPieceTokenizer::word_pieces(std::string_view word) const {
  // Byte offsets of the code points, and the end.
  std::vector<size_t> starts;
  for (size_t i = 0; i < word.size();) {
    starts.push_back(i);
    const auto cp = common::decode_utf8(word, i);
    i += cp.length == 0 ? 1 : cp.length;
  }
  const auto n = starts.size();
  starts.push_back(word.size());
  if (static_cast<int64_t>(n) > options_.max_input_chars_per_word) return {options_.unk_token};
  std::vector<std::string> pieces;
  std::string candidate;
  for (size_t start = 0; start < n;) {
    size_t end = n;
    bool found = false;
    for (; end > start; --end) {
      candidate.assign(start > 0 ? options_.continuing_subword_prefix : "");
      candidate.append(word.substr(starts[start], starts[end] - starts[start]));
      if (vocab_.count(candidate) != 0) {
        found = true;
        break;
      }
    }
    if (!found) return {options_.unk_token};  // no segmentation: the whole word is unknown
    pieces.push_back(candidate);
    start = end;
  }
  return pieces;
}

void WordPieceTokenizer::tokenize(std::string_view text, std::vector<std::string>& tokens,
                                  std::vector<int64_t>& ids) const {
  const auto add_words = [&](std::string_view segment) {
    for (const auto& word : pre_tokenize(normalize(segment))) {
      for (auto& piece : word_pieces(word)) {
        ids.push_back(vocab_.at(piece));
        tokens.push_back(std::move(piece));
      }
    }
  };
  size_t segment_start = 0;
  for (size_t i = 0; i < text.size();) {
    size_t matched = 0;
    for (size_t k = 0; k < added_tokens_.size(); ++k) {
      if (text.compare(i, added_tokens_[k].size(), added_tokens_[k]) == 0) {
        matched = k + 1;
        break;
      }
    }
    if (matched == 0) {
      ++i;
      continue;
    }
    add_words(text.substr(segment_start, i - segment_start));
    tokens.push_back(added_tokens_[matched - 1]);
    ids.push_back(added_ids_[matched - 1]);
    i += added_tokens_[matched - 1].size();
    segment_start = i;
  }
  add_words(text.substr(segment_start));
}

WordPieceEncoding WordPieceTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  WordPieceEncoding body;
  tokenize(text, body.tokens, body.ids);
  if (options_.max_length > 0) {
    const auto keep = static_cast<size_t>(options_.max_length - (add_special_tokens ? 2 : 0));
    if (body.ids.size() > keep) {
      body.ids.resize(keep);
      body.tokens.resize(keep);
    }
  }
  if (!add_special_tokens) {
    body.type_ids.assign(body.ids.size(), 0);
    return body;
  }
  WordPieceEncoding out;
  out.ids.push_back(cls_id_);
  out.tokens.push_back(options_.cls_token);
  out.ids.insert(out.ids.end(), body.ids.begin(), body.ids.end());
  out.tokens.insert(out.tokens.end(), body.tokens.begin(), body.tokens.end());
  out.ids.push_back(sep_id_);
  out.tokens.push_back(options_.sep_token);
  out.type_ids.assign(out.ids.size(), 0);
  return out;
}

WordPieceEncoding WordPieceTokenizer::encode_pair(std::string_view a, std::string_view b,
                                                  bool add_special_tokens) const {
  WordPieceEncoding first, second;
  tokenize(a, first.tokens, first.ids);
  tokenize(b, second.tokens, second.ids);
  if (options_.max_length > 0) {
    // LongestFirst, as the tokenizers library computes it: the shorter side keeps what it can of an
    // even share, the longer side the rest.
    const auto max_length =
        static_cast<size_t>(std::max<int64_t>(0, options_.max_length - (add_special_tokens ? 3 : 0)));
    size_t n1 = first.ids.size(), n2 = second.ids.size();
    if (n1 + n2 > max_length) {
      const bool swap = n1 > n2;
      if (swap) std::swap(n1, n2);
      n2 = n1 > max_length ? n1 : std::max(n1, max_length - n1);
      if (n1 + n2 > max_length) {
        n1 = max_length / 2;
        n2 = n1 + max_length % 2;
      }
      if (swap) std::swap(n1, n2);
      first.ids.resize(std::min(first.ids.size(), n1));
      first.tokens.resize(first.ids.size());
      second.ids.resize(std::min(second.ids.size(), n2));
      second.tokens.resize(second.ids.size());
    }
  }
  WordPieceEncoding out;
  const auto append = [&](const WordPieceEncoding& part, int64_t type) {
    out.ids.insert(out.ids.end(), part.ids.begin(), part.ids.end());
    out.tokens.insert(out.tokens.end(), part.tokens.begin(), part.tokens.end());
    out.type_ids.insert(out.type_ids.end(), part.ids.size(), type);
  };
  const auto special = [&](int64_t id, const std::string& token, int64_t type) {
    if (!add_special_tokens) return;
    out.ids.push_back(id);
    out.tokens.push_back(token);
    out.type_ids.push_back(type);
  };
  special(cls_id_, options_.cls_token, 0);
  append(first, 0);
  special(sep_id_, options_.sep_token, 0);
  append(second, 1);
  special(sep_id_, options_.sep_token, 1);
  return out;
}

std::string WordPieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  bool first = true;
  for (int64_t id : ids) {
    if (id >= 0 && id < vocab_size() && special_[static_cast<size_t>(id)]) continue;
    const auto& piece = id_to_token(id);
    const auto& prefix = options_.continuing_subword_prefix;
    if (!prefix.empty() && piece.compare(0, prefix.size(), prefix) == 0) {
      text += piece.substr(prefix.size());
    } else {
      if (!first) text += ' ';
      text += piece;
    }
    first = false;
  }
  // The decoder's cleanup: no space before punctuation or inside English contractions.
  const std::pair<const char*, const char*> cleanups[] = {
      {" .", "."},   {" ?", "?"},           {" !", "!"},   {" ,", ","},     {" ' ", "'"},   {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : cleanups) {
    const std::string f = from, t = to;
    for (size_t at = text.find(f); at != std::string::npos; at = text.find(f, at + t.size())) {
      text.replace(at, f.size(), t);
    }
  }
  return text;
}

int64_t WordPieceTokenizer::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? -1 : it->second;
}

const std::string& WordPieceTokenizer::id_to_token(int64_t id) const {
  TORCHZOO_CHECK(id >= 0 && id < vocab_size(), "WordPiece: id {} is outside the vocabulary [0, {})", id, vocab_size());
  return pieces_[static_cast<size_t>(id)];
}

}  // namespace torchzoo::data
