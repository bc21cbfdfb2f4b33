// What the text tasks' data sections share: data.tokenizer, the SentencePiece
// model trained on the training split the first time and loaded afterwards,
// and the token-budget batching keys. Used by translation and text
// classification.
#include <filesystem>
#include <iostream>

#include "torchzoo/configs/builders.h"
#include "torchzoo/common/format.h"

namespace torchzoo::configs {

TokenizerSettings read_tokenizer_settings(const Section& data, bool allow_joint) {
  auto t = data.section("tokenizer");
  TokenizerSettings settings;
  settings.joint = allow_joint ? t.get<bool>("joint", settings.joint) : false;
  auto& o = settings.options;
  o.vocab_size(t.get_positive<int64_t>("vocab_size", o.vocab_size()))
      .model_type(t.get_choice("model_type", o.model_type(), {"unigram", "bpe", "char", "word"}))
      .character_coverage(t.get_in_range<double>("character_coverage", o.character_coverage(), 0.9, 1.0))
      .seed(t.get_in_range<int64_t>("seed", o.seed(), 0, INT64_MAX));
  // Next to the training data by default, named by the settings, so runs that share them share the file.
  const auto train_file = data.has("train") ? data.require<std::string>("train") : data.get("train_src", "");
  const auto name = allow_joint
                        ? fmt::format("spm-{}-{}-{}", settings.joint ? "joint" : "sep", o.model_type(), o.vocab_size())
                        : fmt::format("spm-{}-{}", o.model_type(), o.vocab_size());
  settings.prefix = t.get("prefix", (std::filesystem::path(train_file).parent_path() / name).string());
  t.finish();
  return settings;
}

std::shared_ptr<const data::SentencePieceTokenizer> load_or_train_tokenizer(const Section& data,
                                                                            const TokenizerSettings& settings,
                                                                            const std::string& path,
                                                                            const std::vector<std::string>* sentences) {
  auto t = data.section("tokenizer");
  const auto& o = settings.options;
  if (!std::filesystem::exists(path)) {
    if (sentences == nullptr) t.fail("prefix", fmt::format("the SentencePiece model {} does not exist", path));
    std::cerr << fmt::format("training SentencePiece ({}, {} pieces) on {} sentences -> {}\n", o.model_type(),
                             o.vocab_size(), sentences->size(), path);
    const auto folder = std::filesystem::path(path).parent_path();
    if (!folder.empty()) std::filesystem::create_directories(folder);
    try {
      data::train_sentencepiece(*sentences, path, o);
    } catch (const c10::Error& error) {
      t.fail("vocab_size", error.what_without_backtrace());
    }
  }
  auto tokenizer = std::make_shared<const data::SentencePieceTokenizer>(path);
  if (tokenizer->vocab_size() != o.vocab_size()) {
    t.fail("vocab_size", fmt::format("the existing SentencePiece model {} has {} pieces, not {}: remove it to "
                                     "train a new one, or set data.tokenizer.prefix",
                                     path, tokenizer->vocab_size(), o.vocab_size()));
  }
  return tokenizer;
}

std::shared_ptr<const data::SentencePieceTokenizer> single_tokenizer(const Section& data,
                                                                     const std::vector<std::string>* texts,
                                                                     int64_t vocab) {
  const auto settings = read_tokenizer_settings(data, /*allow_joint=*/false);
  if (settings.options.vocab_size() != vocab) {
    data.section("tokenizer")
        .fail("vocab_size",
              fmt::format("must equal model.vocab, got {} for vocab={}", settings.options.vocab_size(), vocab));
  }
  return load_or_train_tokenizer(data, settings, settings.prefix + ".model", texts);
}

data::InvalidUtf8 read_invalid_utf8(const Section& data) {
  return data.get_choice("invalid_utf8", "error", {"error", "skip"}) == "skip" ? data::InvalidUtf8::kSkip
                                                                              : data::InvalidUtf8::kError;
}

void report_skipped_lines(const Section& data, const std::string& key, const std::string& path, int64_t skipped) {
  if (skipped == 0) return;
  std::cerr << fmt::format("{}.{}: skipped {} line{} of {} that {} not valid UTF-8 (invalid_utf8: skip)\n",
                           data.path(), key, skipped, skipped == 1 ? "" : "s", path, skipped == 1 ? "is" : "are");
}

data::TokenBatchOptions read_token_batching(const Section& data) {
  data::TokenBatchOptions batching;
  batching.batch_tokens(data.get_positive<int64_t>("batch_tokens", batching.batch_tokens()))
      .max_sentences(data.get_in_range<int64_t>("max_sentences", batching.max_sentences(), 0, INT64_MAX))
      .seed(static_cast<uint64_t>(data.get_in_range<int64_t>("seed", static_cast<int64_t>(batching.seed()), 0, INT64_MAX)));
  return batching;
}

}  // namespace torchzoo::configs
