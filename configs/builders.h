#pragma once
// YAML section -> object builders registered in registries.cpp. Each reads the
// keys it knows, validates them, and calls Section::finish() so that unknown
// keys are errors naming the allowed ones.
#include "torchzoo/configs/registries.h"
#include "torchzoo/data/sentencepiece_tokenizer.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/data/token_batches.h"

namespace torchzoo::configs {

/// data.tokenizer settings (text_data_builders.cpp): SentencePiece training options, whether one
/// joint vocabulary serves both sides (`joint`, read only when allow_joint), and the file prefix
/// (`prefix`; default next to the training file, named by the settings).
struct TokenizerSettings {
  data::SentencePieceTrainOptions options;
  /// One vocabulary for source and target (the default where a family has both); false otherwise.
  bool joint = true;
  std::string prefix;
};
TokenizerSettings read_tokenizer_settings(const Section& data, bool allow_joint);
/// The SentencePiece model at `path`, trained on `sentences` first when the file is missing (an
/// error when `sentences` is null); its vocabulary must be settings.options.vocab_size().
std::shared_ptr<const data::SentencePieceTokenizer> load_or_train_tokenizer(const Section& data,
                                                                            const TokenizerSettings& settings,
                                                                            const std::string& path,
                                                                            const std::vector<std::string>* sentences);

/// The one SentencePiece model of a single-text task (no `joint` key): vocab_size must equal the
/// model's `vocab`; trained on `texts` when the file is missing (an error when `texts` is null).
std::shared_ptr<const data::SentencePieceTokenizer> single_tokenizer(const Section& data,
                                                                     const std::vector<std::string>* texts,
                                                                     int64_t vocab);

/// data.invalid_utf8: error (the default) or skip, for the corpus readers.
data::InvalidUtf8 read_invalid_utf8(const Section& data);
/// Says on stderr how many lines of data.`key` (`path`) invalid_utf8: skip left out, if any.
void report_skipped_lines(const Section& data, const std::string& key, const std::string& path, int64_t skipped);

/// data.batch_tokens, data.max_sentences and data.seed (text_data_builders.cpp).
data::TokenBatchOptions read_token_batching(const Section& data);

/// The token loss of the `loss` section (optimization_builders.cpp).
train::TokenLoss build_loss(const Config& config, const LossContext& context);

// optimizers, schedules and losses (optimization_builders.cpp)
std::unique_ptr<torch::optim::Optimizer> build_adam(const Section& optimizer, const torch::nn::Module& model);
std::unique_ptr<torch::optim::Optimizer> build_adamw(const Section& optimizer, const torch::nn::Module& model);
std::unique_ptr<torch::optim::Optimizer> build_sgd(const Section& optimizer, const torch::nn::Module& model);
std::shared_ptr<train::LRSchedule> build_noam_schedule(const Section& scheduler, const ScheduleContext& context);
std::shared_ptr<train::LRSchedule> build_constant_schedule(const Section& scheduler, const ScheduleContext& context);
std::shared_ptr<train::LRSchedule> build_warmup_cosine_schedule(const Section& scheduler, const ScheduleContext& context);
std::shared_ptr<train::LRSchedule> build_inverse_sqrt_schedule(const Section& scheduler, const ScheduleContext& context);
train::TokenLoss build_label_smoothing(const Section& loss, const LossContext& context);
train::TokenLoss build_cross_entropy(const Section& loss, const LossContext& context);
train::TokenLoss build_nll_loss(const Section& loss, const LossContext& context);

}  // namespace torchzoo::configs
