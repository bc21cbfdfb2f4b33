// The WordPiece tokenizer against Hugging Face's `tokenizers` on the same tokenizer.json.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bert_files.h"
#include "torchzoo/common/format.h"
#include "torchzoo/data/wordpiece_tokenizer.h"

using namespace torchzoo::testing;
using torchzoo::data::WordPieceTokenizer;

TEST_CASE("WordPiece gives tokenizers' ids on LibreOffice help paragraphs in five languages", "[bert][wordpiece]") {
  if (!minilm_or_skip()) return;
  auto tok = WordPieceTokenizer::from_file((minilm_dir() / "tokenizer.json").string());
  REQUIRE(tok.vocab_size() == 30522);
  REQUIRE(tok.cls_id() == 101);
  REQUIRE(tok.sep_id() == 102);
  REQUIRE(tok.max_length() == 128);  // the file's truncation
  std::ifstream in(bert_dir() / "wordpiece.jsonl");
  REQUIRE(in.good());
  int64_t singles = 0, single_agree = 0, pairs = 0, pair_agree = 0, cjk = 0, accented = 0, truncated = 0;
  std::string line;
  while (std::getline(in, line)) {
    const auto record = nlohmann::json::parse(line);
    const auto a = record.at("a").get<std::string>();
    const auto ids = record.at("ids").get<std::vector<int64_t>>();
    const auto type_ids = record.at("type_ids").get<std::vector<int64_t>>();
    torchzoo::data::WordPieceEncoding got;
    if (record.contains("b")) {
      tok.set_max_length(32);
      got = tok.encode_pair(a, record.at("b").get<std::string>());
      tok.set_max_length(128);
      ++pairs;
      pair_agree += got.ids == ids && got.type_ids == type_ids;
    } else {
      got = tok.encode(a);
      ++singles;
      single_agree += got.ids == ids && got.type_ids == type_ids;
      truncated += ids.size() == 128;
      for (unsigned char c : a) {
        if (c >= 0xE4 && c <= 0xE9) {  // the lead byte of U+4000-U+9FFF: CJK ideographs
          ++cjk;
          break;
        }
      }
      accented += a.find("\xC3") != std::string::npos;  // U+00C0-U+00FF: Latin-1 letters with accents
    }
    if (got.ids != ids || got.type_ids != type_ids) {
      UNSCOPED_INFO("differs: " << line << "\n  torchzoo ids: " << fmt::format("{}", fmt::join(got.ids, ", ")));
    }
  }
  std::cout << fmt::format(
      "WordPiece agrees with tokenizers on {} of {} paragraphs ({} with CJK ideographs, {} with accented letters, "
      "{} truncated at 128) and {} of {} pairs (truncated to 32)\n",
      single_agree, singles, cjk, accented, truncated, pair_agree, pairs);
  CHECK(singles >= 4000);
  CHECK(cjk >= 1000);
  CHECK(accented >= 1000);
  CHECK(single_agree == singles);
  CHECK(pair_agree == pairs);
}

TEST_CASE("WordPiece's steps on their own", "[bert][wordpiece]") {
  if (!minilm_or_skip()) return;
  auto tok = WordPieceTokenizer::from_file((minilm_dir() / "tokenizer.json").string());
  CHECK(tok.normalize("Héllo\tWORLD\x01 中文") == "hello world  中  文 ");
  CHECK(tok.pre_tokenize("hello, world!") == std::vector<std::string>{"hello", ",", "world", "!"});
  CHECK(tok.word_pieces("unaffable") == std::vector<std::string>{"una", "##ffa", "##ble"});
  CHECK(tok.word_pieces(std::string(101, 'a')) == std::vector<std::string>{"[UNK]"});
  const auto enc = tok.encode("Hello, [MASK] world!");
  CHECK(enc.tokens == std::vector<std::string>{"[CLS]", "hello", ",", "[MASK]", "world", "!", "[SEP]"});
  CHECK(tok.decode(enc.ids) == "hello, world!");
  CHECK(tok.encode("", false).ids.empty());
  CHECK(tok.encode("").ids == std::vector<int64_t>{101, 102});
  tok.set_max_length(4);
  CHECK(tok.encode("one two three four").ids.size() == 4);
  REQUIRE_THROWS_WITH(tok.set_max_length(2), Catch::Contains("at least 3"));
}

TEST_CASE("A tokenizer.json outside the BERT pipeline is refused, naming the key", "[bert][wordpiece][errors]") {
  const std::string base = R"({"normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "a": 4}},
    "post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 1], "sep": ["[SEP]", 2]}})";
  const auto tok = WordPieceTokenizer::from_json(base, "t.json");
  CHECK(tok.encode("A a b").ids == std::vector<int64_t>{1, 4, 4, 0, 2});
  auto with = [&](const std::string& from, const std::string& to) {
    auto text = base;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  REQUIRE_THROWS_WITH(
      WordPieceTokenizer::from_json(with("BertNormalizer", "NFKC"), "t.json"),
      Catch::Contains("t.json: normalizer.type: torchzoo's WordPiece reads only BertNormalizer, got NFKC"));
  REQUIRE_THROWS_WITH(WordPieceTokenizer::from_json(with("\"WordPiece\"", "\"BPE\""), "t.json"),
                      Catch::Contains("model.type"));
  REQUIRE_THROWS_WITH(WordPieceTokenizer::from_json(with("\"a\": 4", "\"a\": 9"), "t.json"),
                      Catch::Contains("model.vocab.a: expected an integer in [0, 4], got 9"));
  REQUIRE_THROWS_WITH(WordPieceTokenizer::from_json(with("[\"[SEP]\", 2]", "[\"[END]\", 2]"), "t.json"),
                      Catch::Contains("'[END]' is not in model.vocab"));
  REQUIRE_THROWS_WITH(WordPieceTokenizer::from_json("{\"normalizer\": ", "t.json"),
                      Catch::Contains("t.json: not JSON"));
  REQUIRE_THROWS_WITH(WordPieceTokenizer::from_file("/nonexistent/tokenizer.json"),
                      Catch::Contains("cannot open /nonexistent/tokenizer.json"));
}
