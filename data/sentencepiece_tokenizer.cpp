#include "torchzoo/data/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"
#include "torchzoo/common/progress_bar.h"

namespace torchzoo::data {
namespace {

const std::vector<std::string> kSentencePieceModelTypes = {"unigram", "bpe", "char", "word"};
const std::vector<std::string> kSentencePieceNormalizations = {"nmt_nfkc", "nfkc", "nmt_nfkc_cf", "nfkc_cf",
                                                               "identity"};

bool is_blank_sentence(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); });
}

uint64_t sentencepiece_splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Indices of the sentences to train on: the non-blank ones, or a `seed`-chosen subset of `size` of them in
/// corpus order. SentencePiece's own sampler (input_sentence_size) uses a fixed seed, so we draw the subset
/// here: each sentence gets the hash of (seed, index) and the smallest hashes win, the same on every platform.
std::vector<size_t> select_sentences(const std::vector<std::string>& sentences, int64_t size, uint64_t seed) {
  std::vector<size_t> kept;
  kept.reserve(sentences.size());
  for (size_t i = 0; i < sentences.size(); ++i) {
    if (!is_blank_sentence(sentences[i])) kept.push_back(i);
  }
  if (size <= 0 || static_cast<size_t>(size) >= kept.size()) return kept;

  const uint64_t base = sentencepiece_splitmix64(seed);
  std::vector<std::pair<uint64_t, size_t>> keyed;
  keyed.reserve(kept.size());
  for (size_t i : kept) keyed.emplace_back(sentencepiece_splitmix64(base ^ i), i);
  std::nth_element(keyed.begin(), keyed.begin() + size, keyed.end());
  kept.clear();
  for (auto it = keyed.begin(); it != keyed.begin() + size; ++it) kept.push_back(it->second);
  std::sort(kept.begin(), kept.end());
  return kept;
}

/// Hands the chosen sentences to SentencePieceTrainer without copying them into a file.
/// Shows how many have been read on a terminal (common/progress_bar.h): SentencePiece reads them
/// all before it trains, which it does without a sign of progress.
class SelectedSentences : public sentencepiece::SentenceIterator {
 public:
  SelectedSentences(const std::vector<std::string>& sentences, const std::vector<size_t>& chosen)
      : sentences_(sentences),
        chosen_(chosen),
        bar_("SentencePiece: reading sentences", static_cast<int64_t>(chosen.size()), "sent") {}
  bool done() const override { return next_ >= chosen_.size(); }
  void Next() override {
    bar_.update(static_cast<int64_t>(++next_));
    if (next_ == chosen_.size()) bar_.finish();
  }
  const std::string& value() const override { return sentences_[chosen_[next_]]; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  const std::vector<std::string>& sentences_;
  const std::vector<size_t>& chosen_;
  size_t next_ = 0;
  common::ProgressBar bar_;
};

}  // namespace

void train_sentencepiece(const std::vector<std::string>& sentences, const std::string& model_path,
                         const SentencePieceTrainOptions& options) {
  const auto& types = kSentencePieceModelTypes;
  TORCHZOO_CHECK(std::find(types.begin(), types.end(), options.model_type()) != types.end(),
                 "train_sentencepiece: unknown model_type '{}'; allowed: {}", options.model_type(),
                 fmt::join(types, ", "));
  const auto& rules = kSentencePieceNormalizations;
  TORCHZOO_CHECK(std::find(rules.begin(), rules.end(), options.normalization()) != rules.end(),
                 "train_sentencepiece: unknown normalization '{}'; allowed: {}", options.normalization(),
                 fmt::join(rules, ", "));
  TORCHZOO_CHECK(options.vocab_size() > 4, "train_sentencepiece: vocab_size must be > 4 (4 special ids), got {}",
                 options.vocab_size());
  TORCHZOO_CHECK(options.character_coverage() > 0.0 && options.character_coverage() <= 1.0,
                 "train_sentencepiece: character_coverage must be in (0, 1], got {}", options.character_coverage());
  TORCHZOO_CHECK(options.input_sentence_size() >= 0, "train_sentencepiece: input_sentence_size must be >= 0, got {}",
                 options.input_sentence_size());
  TORCHZOO_CHECK(options.num_threads() >= 1, "train_sentencepiece: num_threads must be >= 1, got {}",
                 options.num_threads());

  TORCHZOO_CHECK(!model_path.empty(), "train_sentencepiece: model_path is empty");
  auto folder = std::filesystem::path(model_path).parent_path();
  if (folder.empty()) folder = ".";
  TORCHZOO_CHECK(std::filesystem::is_directory(folder),
                 "train_sentencepiece: cannot write SentencePiece model '{}': folder '{}' does not exist", model_path,
                 folder.string());

  const auto chosen = select_sentences(sentences, options.input_sentence_size(), options.seed());
  TORCHZOO_CHECK(!chosen.empty(), "train_sentencepiece: no non-empty sentences to train '{}' on (got {} sentences)",
                 model_path, sentences.size());

  // No model_prefix: the model comes back serialized, so the file holds no path and we write it ourselves.
  // input_sentence_size stays 0 for SentencePiece (we sampled already). minloglevel 1 keeps warnings and
  // errors and drops the pages of INFO lines a training run prints.
  const std::unordered_map<std::string, std::string> args = {
      {"vocab_size", std::to_string(options.vocab_size())},
      {"model_type", options.model_type()},
      {"normalization_rule_name", options.normalization()},
      {"character_coverage", fmt::format("{}", options.character_coverage())},
      {"num_threads", std::to_string(options.num_threads())},
      {"pad_id", "0"},
      {"unk_id", "1"},
      {"bos_id", "2"},
      {"eos_id", "3"},
      {"minloglevel", "1"},
  };
  SelectedSentences iterator(sentences, chosen);
  std::string model;
  sentencepiece::util::Status status;
  {
    // minloglevel is a process-wide flag that training sets: one training at a time.
    static std::mutex training;
    std::lock_guard<std::mutex> lock(training);
    status = sentencepiece::SentencePieceTrainer::Train(args, &iterator, &model);
  }
  TORCHZOO_CHECK(status.ok(), "train_sentencepiece: cannot train SentencePiece model '{}': {}", model_path,
                 status.ToString());
  common::write_file_atomically(model_path, model, "SentencePiece model");
}

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path) : path_(model_path) {
  auto processor = std::make_shared<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->Load(model_path);
  TORCHZOO_CHECK(status.ok(), "SentencePieceTokenizer: cannot load SentencePiece model '{}': {}", model_path,
                 status.ToString());
  vocab_size_ = processor->GetPieceSize();
  pad_id_ = processor->pad_id();
  unk_id_ = processor->unk_id();
  bos_id_ = processor->bos_id();
  eos_id_ = processor->eos_id();
  for (const auto& [name, id] :
       {std::pair<const char*, int64_t>{"pad", pad_id_}, {"unk", unk_id_}, {"bos", bos_id_}, {"eos", eos_id_}}) {
    TORCHZOO_CHECK(id >= 0,
                   "SentencePieceTokenizer: model '{}' defines no {} id; sequence-to-sequence batches need pad, unk, "
                   "bos and eos (train_sentencepiece fixes pad 0, unk 1, bos 2, eos 3)",
                   model_path, name);
  }
  processor_ = std::move(processor);
}

std::vector<int64_t> SentencePieceTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  const auto status = processor_->Encode(text, &ids);
  TORCHZOO_CHECK(status.ok(), "SentencePieceTokenizer '{}': cannot encode text: {}", path_, status.ToString());
  return std::vector<int64_t>(ids.begin(), ids.end());
}

void SentencePieceTokenizer::check_id(int64_t id) const {
  TORCHZOO_CHECK(id >= 0 && id < vocab_size_, "SentencePieceTokenizer '{}': id {} is outside the vocabulary [0, {})",
                 path_, id, vocab_size_);
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int64_t id : ids) {
    check_id(id);
    if (id != pad_id_ && id != bos_id_ && id != eos_id_) kept.push_back(static_cast<int>(id));
  }
  std::string text;
  const auto status = processor_->Decode(kept, &text);
  TORCHZOO_CHECK(status.ok(), "SentencePieceTokenizer '{}': cannot decode ids: {}", path_, status.ToString());
  return text;
}

std::vector<std::string> SentencePieceTokenizer::pieces(const std::string& text) const {
  std::vector<std::string> pieces;
  const auto status = processor_->Encode(text, &pieces);
  TORCHZOO_CHECK(status.ok(), "SentencePieceTokenizer '{}': cannot encode text: {}", path_, status.ToString());
  return pieces;
}

std::string SentencePieceTokenizer::id_to_piece(int64_t id) const {
  check_id(id);
  return processor_->IdToPiece(static_cast<int>(id));
}

}  // namespace torchzoo::data
