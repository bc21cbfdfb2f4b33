#pragma once
// BERT's WordPiece tokenization (Wu et al. 2016; Devlin et al. 2019), read from
// a Hugging Face `tokenizer.json` and run as the `tokenizers` library runs it,
// id for id (tests/data/test_wordpiece_tokenizer.cpp compares the two on
// thousands of LibreOffice help sentences in six languages):
//
//   1. added tokens: "[CLS]", "[SEP]", "[MASK]", ... written in the text are
//      taken whole, before anything else (longest match first);
//   2. BertNormalizer: drop NUL, U+FFFD and control characters and map every
//      whitespace to " " (clean_text); put spaces around CJK ideographs
//      (handle_chinese_chars); NFD and drop nonspacing marks (strip_accents,
//      which follows lowercase when the file says null); lowercase each code
//      point with Unicode's full case mapping;
//   3. BertPreTokenizer: split at whitespace (dropped) and around every
//      punctuation character (ASCII punctuation and Unicode's P* categories);
//   4. WordPiece: greedy longest-match-first pieces from the vocabulary, later
//      pieces with the "##" prefix; a word with no segmentation, or longer than
//      max_input_chars_per_word characters, is one "[UNK]";
//   5. truncation to max_length (the file's, or set_max_length) with room for
//      the special tokens; a pair loses tokens from the longer side first
//      (LongestFirst);
//   6. the template: [CLS] A [SEP] with token type 0, and B [SEP] with type 1.
//
// Unicode properties (categories, White_Space, NFD, case mapping) come from
// ICU. Invalid UTF-8 bytes are read as U+FFFD, which clean_text drops.
//
// Only this pipeline is supported: a tokenizer.json with another normalizer,
// pre-tokenizer, model or post-processor is refused, naming the key.
//
// Example:
//   auto tok = WordPieceTokenizer::from_file("minilm/tokenizer.json");
//   auto enc = tok.encode("Hello, world!");  // ids [101, 7592, 1010, 2088, 999, 102]
//   auto pair = tok.encode_pair("Is it?", "Yes.");  // type_ids 0 ... 0 1 ... 1
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace torchzoo::data {

/// One encoded sequence (or pair): ids, their token types and their pieces.
struct WordPieceEncoding {
  std::vector<int64_t> ids;
  std::vector<int64_t> type_ids;    ///< 0 for the first sequence and its specials, 1 for the second
  std::vector<std::string> tokens;  ///< the vocabulary's pieces, "##" continuations included
};

/// What a tokenizer.json configures (the defaults are bert-base-uncased's).
struct WordPieceOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  ///< resolved: the file's null means "as lowercase"
  bool lowercase = true;
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  int64_t max_input_chars_per_word = 100;
  int64_t max_length = 0;  ///< truncation, special tokens included; 0: none
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
};

/// BERT's WordPiece tokenizer as a Hugging Face tokenizer.json describes it (see the top of this file).
/// Immutable after construction but for set_max_length; encode and decode may run on several threads.
class WordPieceTokenizer {
 public:
  /// Reads a Hugging Face tokenizer.json. Errors name the file and the key, and say what was expected.
  static WordPieceTokenizer from_file(const std::string& path);
  /// From a parsed file's text (`source` names it in errors).
  static WordPieceTokenizer from_json(const std::string& json_text, const std::string& source);

  /// [CLS] text [SEP] (without them when add_special_tokens is false), truncated to max_length().
  WordPieceEncoding encode(std::string_view text, bool add_special_tokens = true) const;
  /// [CLS] a [SEP] b [SEP], truncated longest-first to max_length().
  WordPieceEncoding encode_pair(std::string_view a, std::string_view b, bool add_special_tokens = true) const;

  /// Step 2 alone: the normalised text.
  std::string normalize(std::string_view text) const;
  /// Step 3 alone: the words of normalised text.
  std::vector<std::string> pre_tokenize(std::string_view normalized) const;
  /// Step 4 alone: one word's pieces.
  std::vector<std::string> word_pieces(std::string_view word) const;
  /// Pieces back to text, as the WordPiece decoder does: "##" pieces joined to the one before,
  /// special tokens dropped, spaces before punctuation and around contractions cleaned up.
  std::string decode(const std::vector<int64_t>& ids) const;

  /// The piece's id, or -1.
  int64_t token_to_id(std::string_view token) const;
  /// The id's piece; an id outside [0, vocab_size()) throws.
  const std::string& id_to_token(int64_t id) const;
  int64_t vocab_size() const { return static_cast<int64_t>(pieces_.size()); }
  int64_t pad_id() const { return pad_id_; }
  int64_t unk_id() const { return unk_id_; }
  int64_t cls_id() const { return cls_id_; }
  int64_t sep_id() const { return sep_id_; }
  /// Truncation length, special tokens included (0: none).
  int64_t max_length() const { return options_.max_length; }
  void set_max_length(int64_t max_length);
  const WordPieceOptions& options() const { return options_; }

 private:
  WordPieceTokenizer() = default;
  /// Steps 1-4 of one sequence, without specials or truncation.
  void tokenize(std::string_view text, std::vector<std::string>& tokens, std::vector<int64_t>& ids) const;
  void require_token(const std::string& token, const std::string& source, const char* key, int64_t& id) const;

  WordPieceOptions options_;
  std::unordered_map<std::string, int64_t> vocab_;
  std::vector<std::string> pieces_;        ///< by id
  std::vector<std::string> added_tokens_;  ///< matched whole in the raw text, longest first
  std::vector<int64_t> added_ids_;
  std::vector<bool> special_;  ///< by id: an added special token (decode drops it)
  int64_t pad_id_ = 0, unk_id_ = 0, cls_id_ = 0, sep_id_ = 0;
};

}  // namespace torchzoo::data
