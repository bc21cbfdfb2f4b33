// The language-model family: a GPT-style decoder-only Transformer
// (model.name: decoder_only_lm) on monolingual text with SentencePiece
// (data.name: language_model). It evaluates perplexity, continues prompts
// (greedy or sampled, with a key/value cache) and exports `generate` with its
// tokenizer.
#include "torchzoo/families/language_model.h"

#include <iostream>

#include "torchzoo/common/format.h"
#include "torchzoo/configs/builders.h"
#include "torchzoo/configs/model_keys.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/models/decoder_only_lm.h"
#include "torchzoo/train/decode/lm_generation.h"
#include "torchzoo/train/tasks/language_model_task.h"

namespace torchzoo::families {
namespace language_model {
namespace {

models::DecoderOnlyLM build_decoder_only_lm(const Section& s) {
  models::DecoderOnlyLMOptions o(s.require<int64_t>("vocab"));
  if (o.vocab() <= 0) s.fail("vocab", fmt::format("must be positive, got {}", o.vocab()));
  configs::read_transformer_stack(s, o);
  o.learned_positions(s.get_choice("positions", o.learned_positions() ? "learned" : "sinusoidal", {"learned", "sinusoidal"}) == "learned")
      .tie_embeddings(s.get<bool>("tie_embeddings", o.tie_embeddings()));
  if (!o.learned_positions() && o.d_model() % 2 != 0) {
    s.fail("d_model", fmt::format("must be even (sinusoidal positions), got {}", o.d_model()));
  }
  const double d = static_cast<double>(o.d_model());
  configs::check_stack_fits(s, o, 2 * d * static_cast<double>(o.vocab()) + d * static_cast<double>(o.max_len()), 1,
                            {{"vocab", static_cast<double>(o.vocab())}});
  s.finish();
  return models::DecoderOnlyLM(o);
}

std::vector<std::string> read_texts(const Section& s, const std::string& name) {
  try {
    const auto path = s.require<std::string>(name);
    const auto content = data::read_text_file(path, "language model text");
    data::Utf8LineCheck utf8(path, configs::read_invalid_utf8(s));
    std::vector<std::string> texts;
    const auto lines = data::split_lines(content);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (!lines[i].empty() && utf8.accept(lines[i], i + 1)) texts.emplace_back(lines[i]);
    }
    configs::report_skipped_lines(s, name, path, utf8.skipped());
    return texts;
  } catch (const c10::Error& error) {
    s.fail(name, error.what_without_backtrace());
  }
}

}  // namespace

std::unique_ptr<train::LanguageModelTask> build_language_model_task(const Section& s, const Config& config,
                                                                     models::DecoderOnlyLM lm) {
  train::LanguageModelTaskOptions o;
  o.batching(configs::read_token_batching(s))
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
  auto tokenizer = configs::single_tokenizer(s, &train, lm->options.vocab());
  s.finish();

  auto loss = configs::build_loss(config, configs::LossContext{lm->options.vocab(), tokenizer->pad_id()});
  auto task = std::make_unique<train::LanguageModelTask>(lm, tokenizer, train, valid, std::move(loss), o);
  std::cerr << fmt::format(
      "language model data: {} training texts ({} cut to {} pieces), {} valid, {} batches of <= {} tokens per "
      "epoch\n",
      task->train_size(), task->cut(), o.max_tokens(), task->valid_size(), task->batches_per_epoch(),
      o.batching().batch_tokens());
  return task;
}

class LanguageModel : public FamilyModelOf<models::DecoderOnlyLM> {
 public:
  using FamilyModelOf::FamilyModelOf;

  int64_t model_size() const override { return model_->options.d_model(); }

  std::unique_ptr<train::Task> build_task(const Config& config) const override {
    return build_language_model_task(data_section(config), config, model_);
  }

  train::TorchScriptExportOptions script_export_options(const Config& config) const override {
    auto tokenizer = tokenizer_of(config);
    return train::TorchScriptExportOptions()
        .start_symbol(tokenizer->bos_id())
        .end_symbol(tokenizer->eos_id())
        .pad(tokenizer->pad_id())
        .extra_files({{"tokenizer.model", data::read_text_file(tokenizer->path(), "tokenizer")}});
  }

  std::vector<std::string> generate(const Config& config, const GenerateRequest& request) const override {
    auto tokenizer = tokenizer_of(config);
    std::vector<std::vector<int64_t>> prompts;
    for (size_t i = 0; i < request.prompts.size(); ++i) {
      std::vector<int64_t> ids = {tokenizer->bos_id()};
      for (auto id : tokenizer->encode(request.prompts[i])) ids.push_back(id);
      if (static_cast<int64_t>(ids.size()) >= model_->options.max_len()) {
        throw UsageError(request.prompts.size() == 1 ? "--prompt" : fmt::format("prompt {}", i + 1),
                         fmt::format("holds {} pieces; the model's max_len {} leaves no room to generate",
                                     ids.size() - 1, model_->options.max_len()));
      }
      prompts.push_back(std::move(ids));
    }
    auto options = request.options;
    options.end_symbol(request.ignore_eos ? -1 : tokenizer->eos_id());
    std::vector<std::string> texts;
    const auto batch = static_cast<size_t>(std::max<int64_t>(request.batch_size, 1));
    for (size_t begin = 0; begin < prompts.size(); begin += batch) {
      const std::vector<std::vector<int64_t>> rows(prompts.begin() + begin,
                                                   prompts.begin() + std::min(prompts.size(), begin + batch));
      const auto continuations = train::generate_batch(*model_.ptr(), rows, options);
      for (size_t r = 0; r < rows.size(); ++r) {
        std::vector<int64_t> pieces(rows[r].begin() + 1, rows[r].end());
        for (auto id : continuations[r]) {
          if (id != tokenizer->eos_id()) pieces.push_back(id);
        }
        texts.push_back(tokenizer->decode(pieces));
      }
    }
    return texts;
  }

 private:
  std::string family_name() const override { return "language_model"; }

  /// The SentencePiece model training wrote (data.tokenizer).
  std::shared_ptr<const data::SentencePieceTokenizer> tokenizer_of(const Config& config) const {
    return configs::single_tokenizer(data_section(config), nullptr, model_->options.vocab());
  }
};

}  // namespace language_model

Family language_model_family() {
  return {
      "language_model",
      "a language model",
      {{"decoder_only_lm", "GPT-style decoder-only language model (learned or sinusoidal positions, tied embeddings)"}},
      {{"language_model", "monolingual text (one text per line) with SentencePiece, next-token loss and perplexity"}},
      [](const Section& model) -> std::unique_ptr<FamilyModel> {
        return std::make_unique<language_model::LanguageModel>(language_model::build_decoder_only_lm(model));
      }};
}

}  // namespace torchzoo::families
