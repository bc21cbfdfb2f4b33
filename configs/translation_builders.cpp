// data.name: translation -- a parallel corpus (TSV files, or pairs of aligned
// files), SentencePiece models trained on its training split when missing,
// and the TranslationTask around an EncoderDecoder.
#include <iostream>

#include "torchzoo/configs/builders.h"
#include "torchzoo/configs/experiment.h"
#include "torchzoo/data/parallel_text.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/translation_task.h"

namespace torchzoo::configs {
namespace {

/// Split `name` ("train", "valid", "test") from `<name>: file.tsv` or `<name>_src` + `<name>_tgt`;
/// empty when neither is given and the split is optional.
std::vector<data::ParallelPair> read_split(const Section& s, const std::string& name, bool required) {
  const bool tsv = s.has(name), files = s.has(name + "_src") || s.has(name + "_tgt");
  if (tsv && files) s.fail(name, fmt::format("give either {0} (a TSV file) or {0}_src and {0}_tgt, not both", name));
  if (!tsv && !files) {
    if (required)
      s.fail("name", fmt::format("a translation corpus needs {0} (TSV: source<TAB>target) or {0}_src "
                                 "and {0}_tgt (aligned files)",
                                 name));
    return {};
  }
  const auto key = tsv ? name : name + "_src";
  try {
    return tsv ? data::read_parallel_tsv(s.require<std::string>(name))
               : data::read_parallel_files(s.require<std::string>(name + "_src"),
                                           s.require<std::string>(name + "_tgt"));
  } catch (const c10::Error& error) {
    s.fail(key, error.what_without_backtrace());
  }
}

/// The SentencePiece files of `data.tokenizer`: trained from `train` when missing (when `train` is given).
TranslationTokenizers tokenizers_of(const Section& data, const std::vector<data::ParallelPair>* train,
                                    int64_t src_vocab, int64_t tgt_vocab) {
  const auto settings = read_tokenizer_settings(data, /*allow_joint=*/true);
  const auto& o = settings.options;
  if (src_vocab != o.vocab_size() || tgt_vocab != o.vocab_size()) {
    data.section("tokenizer")
        .fail("vocab_size", fmt::format("must equal model.src_vocab and model.tgt_vocab, got {} for src_vocab={}, "
                                        "tgt_vocab={}",
                                        o.vocab_size(), src_vocab, tgt_vocab));
  }
  auto load_or_train = [&](const std::string& path, const std::vector<std::string>& sentences) {
    return load_or_train_tokenizer(data, settings, path, train == nullptr ? nullptr : &sentences);
  };
  std::vector<std::string> src_text, tgt_text;
  if (train != nullptr) {
    for (const auto& pair : *train) {
      src_text.push_back(pair.src);
      tgt_text.push_back(pair.tgt);
    }
  }
  if (settings.joint) {
    src_text.insert(src_text.end(), tgt_text.begin(), tgt_text.end());
    auto both = load_or_train(settings.prefix + ".model", src_text);
    return {both, both};
  }
  return {load_or_train(settings.prefix + ".src.model", src_text),
          load_or_train(settings.prefix + ".tgt.model", tgt_text)};
}

models::EncoderDecoder require_translation_model(const Section& data, const std::shared_ptr<torch::nn::Module>& model) {
  auto seq2seq = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(model);
  if (!seq2seq) {
    data.fail("name", fmt::format("data 'translation' trains an encoder_decoder model, got a {}", model->name()));
  }
  return models::EncoderDecoder(seq2seq);
}

}  // namespace

std::unique_ptr<train::Task> build_translation_task(const Section& s, const Config& config,
                                                    std::shared_ptr<torch::nn::Module> model) {
  auto encoder_decoder = require_translation_model(s, model);
  train::TranslationTaskOptions o;
  const auto batching = read_token_batching(s);
  train::TranslatorOptions decoding;
  decoding.beam_size(s.get_in_range<int64_t>("bleu_beam", 1, 1, 64));
  o.batching(batching)
      .max_tokens(s.get_positive<int64_t>("max_tokens", o.max_tokens()))
      .workers(s.get_in_range<int64_t>("workers", o.workers(), 0, 64))
      .prefetch(s.get_positive<int64_t>("prefetch", o.prefetch()))
      .bleu_sentences(s.get_in_range<int64_t>("bleu_sentences", o.bleu_sentences(), -1, INT64_MAX))
      .samples(s.get_in_range<int64_t>("samples", o.samples(), 0, 100))
      .decoding(decoding);
  const auto train_subset = s.get_in_range<int64_t>("train_subset", 0, 0, INT64_MAX);
  if (o.batching().batch_tokens() < o.max_tokens() + 2) {
    s.fail("batch_tokens", fmt::format("must hold one pair of max_tokens={} pieces plus bos and eos, got {}",
                                       o.max_tokens(), o.batching().batch_tokens()));
  }
  auto train = read_split(s, "train", true);
  auto valid = read_split(s, "valid", true);
  auto test = read_split(s, "test", false);
  if (train_subset > 0 && train_subset < static_cast<int64_t>(train.size())) train.resize(train_subset);
  if (train.empty()) s.fail("train", "the training split holds no pairs");
  if (valid.empty()) s.fail("valid", "the validation split holds no pairs");
  const auto& options = encoder_decoder->options;
  auto tokenizers = tokenizers_of(s, &train, options.src_vocab(), options.tgt_vocab());
  s.finish();

  auto loss = build_loss(config, LossContext{options.tgt_vocab(), tokenizers.tgt->pad_id()});
  auto task = std::make_unique<train::TranslationTask>(encoder_decoder, tokenizers.src, tokenizers.tgt, train, valid,
                                                       std::move(loss), o);
  task->set_test(std::move(test));
  const auto& data = task->train_data();
  std::cerr << fmt::format(
      "translation data: {} training pairs ({} longer than {} pieces left out), {} valid, {} test, "
      "{} batches of <= {} tokens per epoch\n",
      data.size(), data.dropped, o.max_tokens(), valid.size(), task->test_pairs().size(), task->batches_per_epoch(),
      o.batching().batch_tokens());
  return task;
}

TranslationTokenizers load_translation_tokenizers(const Config& config) {
  auto data = config.section("data");
  if (data.require<std::string>("name") != "translation") {
    data.fail("name", "expected a translation config (data.name: translation)");
  }
  auto model = config.section("model");
  return tokenizers_of(data, nullptr, model.require<int64_t>("src_vocab"), model.require<int64_t>("tgt_vocab"));
}

}  // namespace torchzoo::configs
