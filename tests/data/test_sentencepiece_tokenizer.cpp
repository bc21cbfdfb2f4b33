#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/temp_dir.h"
#include "torchzoo/data/sentencepiece_tokenizer.h"

using namespace torchzoo::data;
using torchzoo::testing::fresh_dir;

namespace {

/// A few hundred German and English sentences from fixed word lists (umlauts and ß included), the same on
/// every platform: a small linear congruential generator picks the words, and glues German compounds.
std::vector<std::string> spm_test_corpus(int count = 400) {
  const std::vector<std::string> words = {
      "Die",     "Straße", "ist",     "grün",   "und",    "schön",   "Häuser",  "über",      "der",     "Brücke",
      "Mädchen", "fährt",  "nach",    "Köln",   "Bücher", "für",     "Tür",     "Größe",     "Öl",      "Ärger",
      "Übung",   "Baum",   "klein",   "Wasser", "Zug",    "Bahnhof", "München", "Schlüssel", "Fenster", "heute",
      "morgen",  "wir",    "sie",     "hören",  "müssen", "würden",  "the",     "street",    "is",      "green",
      "and",     "houses", "over",    "bridge", "girl",   "drives",  "to",      "books",     "for",     "door",
      "size",    "oil",    "trouble", "a",      "small",  "house",   "tree",    "water",     "train",   "station",
      "key",     "window", "today",   "we",     "they",   "hear",    "must",    "would"};
  const std::vector<std::string> parts = {"haus",      "tür",   "straße",  "bahn",   "zug", "wasser",
                                          "schlüssel", "größe", "fenster", "bücher", "öl",  "übung"};
  const std::vector<std::string> ends = {".", "!", "?", ",", ""};
  std::vector<std::string> out;
  uint32_t state = 12345;
  auto draw = [&](size_t n) {
    state = state * 1664525u + 1013904223u;
    return static_cast<size_t>((state >> 8) % n);
  };
  for (int i = 0; i < count; ++i) {
    std::string line;
    const size_t length = 3 + draw(10);
    for (size_t k = 0; k < length; ++k) {
      if (k > 0) line += ' ';
      if (draw(4) == 0) {
        line += parts[draw(parts.size())] + parts[draw(parts.size())];
      } else {
        line += words[draw(words.size())];
      }
    }
    line += ends[draw(ends.size())];
    out.push_back(line);
  }
  return out;
}

std::string spm_read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// One unigram model (vocab 150) shared by the test cases of this file, trained on first use.
const std::string& spm_shared_model() {
  static const std::string path = [] {
    auto file = (fresh_dir("spm_shared") / "unigram.model").string();
    train_sentencepiece(spm_test_corpus(), file, SentencePieceTrainOptions().vocab_size(150));
    return file;
  }();
  return path;
}

}  // namespace

TEST_CASE("SentencePiece model has the fixed special ids", "[data][sentencepiece]") {
  SentencePieceTokenizer tok(spm_shared_model());
  CHECK(tok.vocab_size() == 150);
  CHECK(tok.pad_id() == 0);
  CHECK(tok.unk_id() == 1);
  CHECK(tok.bos_id() == 2);
  CHECK(tok.eos_id() == 3);
  CHECK(tok.id_to_piece(0) == "<pad>");
  CHECK(tok.id_to_piece(1) == "<unk>");
  CHECK(tok.id_to_piece(2) == "<s>");
  CHECK(tok.id_to_piece(3) == "</s>");
  CHECK(tok.path() == spm_shared_model());
}

TEST_CASE("SentencePiece round trips normalised text", "[data][sentencepiece]") {
  SentencePieceTokenizer tok(spm_shared_model());
  // Training sentences and unseen ones made of the same characters.
  auto sentences = spm_test_corpus(400);
  sentences.push_back("Größe über Brücke, Öl für Ärger!");
  sentences.push_back("a tree drives to Köln");
  for (const auto& s : sentences) {
    const auto ids = tok.encode(s);
    REQUIRE_FALSE(ids.empty());
    for (auto id : ids) {
      REQUIRE(id > tok.eos_id());  // no pad/bos/eos, and every character was seen: no unk
      REQUIRE(id < tok.vocab_size());
    }
    REQUIRE(tok.decode(ids) == s);
  }
  CHECK(tok.encode("").empty());
  CHECK(tok.decode({}).empty());
}

TEST_CASE("SentencePiece normalises with nmt_nfkc", "[data][sentencepiece]") {
  SentencePieceTokenizer tok(spm_shared_model());
  // Decomposed u + combining diaeresis comes back composed (NFC); blanks are cleaned up.
  CHECK(tok.decode(tok.encode("Die Stra\xc3\x9f"
                              "e ist gru\xcc\x88n")) == "Die Straße ist grün");
  CHECK(tok.decode(tok.encode("  Die   Straße\tist  grün ")) == "Die Straße ist grün");
  // Full-width letters fold to ASCII (NFKC).
  CHECK(tok.decode(tok.encode("\xef\xbc\xa4ie")) == "Die");
  // An unseen character becomes <unk>, which decodes as " ⁇ " (spaces included).
  const auto ids = tok.encode("Die €");
  CHECK(std::find(ids.begin(), ids.end(), tok.unk_id()) != ids.end());
  CHECK(tok.decode(ids) == "Die  \xe2\x81\x87 ");
}

TEST_CASE("SentencePiece pieces mark word starts with U+2581", "[data][sentencepiece]") {
  SentencePieceTokenizer tok(spm_shared_model());
  const std::string text = "Die Straße ist grün.";
  const auto pieces = tok.pieces(text);
  REQUIRE(pieces.size() == tok.encode(text).size());
  std::string joined;
  for (const auto& p : pieces) joined += p;
  CHECK(joined.rfind("\xe2\x96\x81"
                     "Die",
                     0) == 0);
  std::string spaced;
  for (size_t i = 0; i < joined.size();) {
    if (joined.compare(i, 3, "\xe2\x96\x81") == 0) {
      spaced += ' ';
      i += 3;
    } else {
      spaced += joined[i++];
    }
  }
  CHECK(spaced == " " + text);
}

TEST_CASE("SentencePiece decode skips pad, bos and eos and rejects bad ids", "[data][sentencepiece]") {
  SentencePieceTokenizer tok(spm_shared_model());
  const std::string text = "Die Häuser über der Brücke.";
  auto ids = tok.encode(text);
  std::vector<int64_t> framed = {tok.bos_id()};
  framed.insert(framed.end(), ids.begin(), ids.end());
  framed.insert(framed.end(), {tok.eos_id(), tok.pad_id(), tok.pad_id()});
  CHECK(tok.decode(framed) == text);

  REQUIRE_THROWS_WITH(tok.decode({4, 150}), Catch::Contains("id 150 is outside the vocabulary [0, 150)"));
  REQUIRE_THROWS_WITH(tok.decode({-1}), Catch::Contains("id -1 is outside the vocabulary"));
  REQUIRE_THROWS_WITH(tok.id_to_piece(1000), Catch::Contains("id 1000 is outside the vocabulary"));
}

TEST_CASE("SentencePiece encodes from several threads at once", "[data][sentencepiece]") {
  const SentencePieceTokenizer tok(spm_shared_model());
  const auto sentences = spm_test_corpus(400);
  std::vector<std::vector<int64_t>> expected;
  for (const auto& s : sentences) expected.push_back(tok.encode(s));

  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const SentencePieceTokenizer copy = tok;  // copies share the processor
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < sentences.size(); ++i) {
          const auto ids = copy.encode(sentences[i]);
          if (ids != expected[i] || copy.decode(ids) != sentences[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("SentencePiece training is reproducible", "[data][sentencepiece]") {
  const auto dir = fresh_dir("spm_repro");
  const auto corpus = spm_test_corpus();
  for (const std::string type : {"unigram", "bpe"}) {
    const auto options = SentencePieceTrainOptions().vocab_size(120).model_type(type);
    train_sentencepiece(corpus, (dir / (type + "_a.model")).string(), options);
    train_sentencepiece(corpus, (dir / (type + "_b.model")).string(), options);
    const auto a = spm_read_bytes(dir / (type + "_a.model"));
    CHECK(a.size() > 1000);
    CHECK(a == spm_read_bytes(dir / (type + "_b.model")));
  }

  // A subset drawn by seed: the same seed gives the same model, another seed another subset.
  auto sampled = SentencePieceTrainOptions().vocab_size(100).input_sentence_size(150);
  train_sentencepiece(corpus, (dir / "s1_a.model").string(), sampled.seed(1));
  train_sentencepiece(corpus, (dir / "s1_b.model").string(), sampled.seed(1));
  train_sentencepiece(corpus, (dir / "s2.model").string(), sampled.seed(2));
  CHECK(spm_read_bytes(dir / "s1_a.model") == spm_read_bytes(dir / "s1_b.model"));
  CHECK(spm_read_bytes(dir / "s1_a.model") != spm_read_bytes(dir / "s2.model"));

  // Only the model files are left: the temporary files were renamed into place.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    CHECK(entry.path().extension() == ".model");
    ++files;
  }
  CHECK(files == 7);
}

TEST_CASE("SentencePiece trains every model type", "[data][sentencepiece]") {
  const auto dir = fresh_dir("spm_types");
  const auto corpus = spm_test_corpus();
  for (const std::string type : {"bpe", "char", "word"}) {
    const auto path = (dir / (type + ".model")).string();
    train_sentencepiece(corpus, path, SentencePieceTrainOptions().vocab_size(60).model_type(type));
    SentencePieceTokenizer tok(path);
    CHECK(tok.pad_id() == 0);
    CHECK(tok.eos_id() == 3);
    CHECK(tok.vocab_size() <= 60);
    for (size_t i = 0; i < corpus.size(); i += 37) {
      if (type == "word") {
        // Whole words only: the 56 most frequent have ids, runs of other words become one <unk>.
        for (const auto& piece : tok.pieces(corpus[i])) CHECK(piece.rfind("\xe2\x96\x81", 0) == 0);
      } else {
        CHECK(tok.decode(tok.encode(corpus[i])) == corpus[i]);
      }
    }
  }
}

TEST_CASE("SentencePiece identity normalisation keeps code points", "[data][sentencepiece]") {
  const auto path = (fresh_dir("spm_identity") / "identity.model").string();
  auto corpus = spm_test_corpus();
  corpus.push_back("gru\xcc\x88n");  // the decomposed form, so its characters are in the alphabet
  train_sentencepiece(corpus, path, SentencePieceTrainOptions().vocab_size(120).normalization("identity"));
  SentencePieceTokenizer tok(path);
  CHECK(tok.decode(tok.encode("Die gru\xcc\x88n")) == "Die gru\xcc\x88n");
  CHECK(tok.decode(tok.encode("Die  grün ")) == "Die grün");  // spaces are still cleaned up
}

TEST_CASE("SentencePiece errors", "[data][sentencepiece][errors]") {
  const auto dir = fresh_dir("spm_errors");
  const auto corpus = spm_test_corpus(100);
  const auto missing = (dir / "absent.model").string();
  REQUIRE_THROWS_WITH(SentencePieceTokenizer(missing),
                      Catch::Contains("cannot load SentencePiece model '" + missing + "'"));
  const auto garbage = (dir / "garbage.model").string();
  std::ofstream(garbage) << "not a model";
  REQUIRE_THROWS_WITH(SentencePieceTokenizer(garbage),
                      Catch::Contains("cannot load SentencePiece model '" + garbage + "'"));

  const auto in_missing_folder = (dir / "no_such_folder" / "m.model").string();
  REQUIRE_THROWS_WITH(train_sentencepiece(corpus, in_missing_folder, SentencePieceTrainOptions().vocab_size(60)),
                      Catch::Contains("cannot write SentencePiece model '" + in_missing_folder + "'") &&
                          Catch::Contains("does not exist"));

  const auto path = (dir / "m.model").string();
  REQUIRE_THROWS_WITH(train_sentencepiece(corpus, path, SentencePieceTrainOptions().model_type("wordpiece")),
                      Catch::Contains("unknown model_type 'wordpiece'; allowed: unigram, bpe, char, word"));
  REQUIRE_THROWS_WITH(train_sentencepiece(corpus, path, SentencePieceTrainOptions().normalization("nfc")),
                      Catch::Contains("unknown normalization 'nfc'; allowed: nmt_nfkc"));
  REQUIRE_THROWS_WITH(train_sentencepiece({"", "  "}, path, SentencePieceTrainOptions()),
                      Catch::Contains("no non-empty sentences"));
  // SentencePiece's own message comes through, with the path.
  REQUIRE_THROWS_WITH(train_sentencepiece(corpus, path, SentencePieceTrainOptions().vocab_size(5000)),
                      Catch::Contains("cannot train SentencePiece model '" + path + "'") &&
                          Catch::Contains("Vocabulary size too high"));
  // Failed trainings leave no model and no temporary file: only the garbage file is there.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  CHECK(names == std::vector<std::string>{"garbage.model"});
}
