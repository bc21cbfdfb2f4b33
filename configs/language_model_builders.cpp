// data.name: language_model -- monolingual text files (one text per line,
// e.g. the English side of `torchzoo data prepare libreoffice-help`), a
// SentencePiece model trained on the training texts when missing, and the
// LanguageModelTask around a DecoderOnlyLM.
#include <iostream>

#include "torchzoo/configs/builders.h"
#include "torchzoo/configs/experiment.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/models/decoder_only_lm.h"
#include "torchzoo/train/language_model_task.h"

namespace torchzoo::configs {
namespace {

/// The non-empty lines of the file at data.<name>.
std::vector<std::string> read_texts(const Section& s, const std::string& name) {
  try {
    const auto path = s.require<std::string>(name);
    const auto content = data::read_text_file(path, "language model text");
    std::vector<std::string> texts;
    for (const auto line : data::split_lines(content)) {
      if (!line.empty()) texts.emplace_back(line);
    }
    return texts;
  } catch (const c10::Error& error) {
    s.fail(name, error.what_without_backtrace());
  }
}

models::DecoderOnlyLM require_language_model(const Section& data, const std::shared_ptr<torch::nn::Module>& model) {
  auto lm = std::dynamic_pointer_cast<models::DecoderOnlyLMImpl>(model);
  if (!lm) {
    data.fail("name", fmt::format("data 'language_model' trains a decoder_only_lm model, got a {}", model->name()));
  }
  return models::DecoderOnlyLM(lm);
}

}  // namespace

std::unique_ptr<train::Task> build_language_model_task(const Section& s, const Config& config,
                                                       std::shared_ptr<torch::nn::Module> model) {
  auto lm = require_language_model(s, model);
  train::LanguageModelTaskOptions o;
  o.batching(read_token_batching(s))
      .max_tokens(s.get_positive<int64_t>("max_tokens", o.max_tokens()))
      .workers(s.get_in_range<int64_t>("workers", o.workers(), 0, 64))
      .prefetch(s.get_positive<int64_t>("prefetch", o.prefetch()))
      .samples(s.get_in_range<int64_t>("samples", o.samples(), 0, 100));
  if (o.max_tokens() + 2 > o.batching().batch_tokens()) {
    s.fail("batch_tokens", fmt::format("must hold one text of max_tokens={} pieces plus bos and eos, got {}",
                                       o.max_tokens(), o.batching().batch_tokens()));
  }
  if (o.max_tokens() + 1 > lm->options.max_len()) {
    s.fail("max_tokens", fmt::format("must leave room for bos within model.max_len={}, got {}", lm->options.max_len(),
                                     o.max_tokens()));
  }
  const auto train_subset = s.get_in_range<int64_t>("train_subset", 0, 0, INT64_MAX);
  auto train = read_texts(s, "train");
  auto valid = read_texts(s, "valid");
  if (train_subset > 0 && train_subset < static_cast<int64_t>(train.size())) train.resize(train_subset);
  if (train.empty()) s.fail("train", "the training file holds no text");
  if (valid.empty()) s.fail("valid", "the validation file holds no text");
  auto tokenizer = single_tokenizer(s, &train, lm->options.vocab());
  s.finish();

  auto loss = build_loss(config, LossContext{lm->options.vocab(), tokenizer->pad_id()});
  auto task = std::make_unique<train::LanguageModelTask>(lm, tokenizer, train, valid, std::move(loss), o);
  std::cerr << fmt::format(
      "language model data: {} training texts ({} cut to {} pieces), {} valid, {} batches of <= {} tokens per "
      "epoch\n",
      task->train_size(), task->cut(), o.max_tokens(), task->valid_size(), task->batches_per_epoch(),
      o.batching().batch_tokens());
  return task;
}

std::shared_ptr<const data::SentencePieceTokenizer> load_lm_tokenizer(const Config& config) {
  auto data = config.section("data");
  if (data.require<std::string>("name") != "language_model") {
    data.fail("name", "expected a language model config (data.name: language_model)");
  }
  return single_tokenizer(data, nullptr, config.section("model").require<int64_t>("vocab"));
}

}  // namespace torchzoo::configs
