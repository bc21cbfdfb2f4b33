#pragma once
// Language modelling on monolingual text: one text per line (a paragraph or a
// sentence), SentencePiece pieces, each sequence bos + pieces + eos (pieces
// cut to max_tokens), packed by length under a token budget
// (data/token_batches.h) on worker threads. The model predicts every next
// token; the loss is normalised per predicted token. Validation reports the
// loss, the token accuracy and the perplexity, exp of the mean negative
// log-likelihood per token (not of the label-smoothed loss).
#include <memory>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "torchzoo/data/prefetcher.h"
#include "torchzoo/data/sentencepiece_tokenizer.h"
#include "torchzoo/data/token_batches.h"
#include "torchzoo/models/decoder_only_lm.h"
#include "torchzoo/train/tasks/task.h"

namespace torchzoo::train {

/// Options of LanguageModelTask: batching, the sequence length, workers and samples.
struct LanguageModelTaskOptions {
  /// Token budget, row cap and shuffling of the training batches (validation: the same budget, unshuffled).
  TORCH_ARG(data::TokenBatchOptions, batching) = data::TokenBatchOptions();
  /// Pieces kept per text; the rest is cut.
  TORCH_ARG(int64_t, max_tokens) = 128;
  /// Threads collating training batches ahead of the trainer (0: on the training thread).
  TORCH_ARG(int64_t, workers) = 1;
  /// Batches made ahead.
  TORCH_ARG(int64_t, prefetch) = 8;
  /// Validation texts whose first words are continued (greedily) after training.
  TORCH_ARG(int64_t, samples) = 2;
};

/// Language modelling on one text per line: a DecoderOnlyLM trained to predict every next piece;
/// validation reports loss, token accuracy and perplexity.
class LanguageModelTask : public Task {
 public:
  LanguageModelTask(models::DecoderOnlyLM model, std::shared_ptr<const data::SentencePieceTokenizer> tokenizer,
                    const std::vector<std::string>& train, const std::vector<std::string>& valid, TokenLoss criterion,
                    LanguageModelTaskOptions options);

  std::shared_ptr<torch::nn::Module> module() override { return model_.ptr(); }
  void to(torch::Device device) override;
  int64_t batches_per_epoch() const override { return batches_per_epoch_; }
  BatchLoss train_loss(int64_t epoch, int64_t index) override;
  /// Validation loss per token, token accuracy and perplexity.
  Metrics evaluate() override;
  std::string unit() const override { return "tok"; }
  /// Greedy continuations of the first words of a few validation texts.
  std::string sample() override;

  /// Loss, token accuracy and perplexity of any texts.
  Metrics evaluate_on(const std::vector<std::string>& texts);

  const data::SentencePieceTokenizer& tokenizer() const { return *tokenizer_; }
  models::DecoderOnlyLM& model() { return model_; }
  int64_t train_size() const { return static_cast<int64_t>(train_.size()); }
  int64_t valid_size() const { return static_cast<int64_t>(valid_.size()); }
  int64_t cut() const { return cut_; }

 private:
  struct Batch {
    torch::Tensor input;   ///< int64 [B, T]: bos + pieces
    torch::Tensor target;  ///< int64 [B, T]: pieces + eos, padded
    torch::Tensor mask;    ///< bool [B, T, T]: padding & subsequent
    int64_t ntokens = 0;   ///< predicted (non-padding) tokens
    Batch to(torch::Device device) const;
  };
  std::vector<std::vector<int64_t>> encode(const std::vector<std::string>& texts, int64_t* cut) const;
  Batch collate(const std::vector<std::vector<int64_t>>& sequences, const std::vector<int64_t>& rows) const;
  static std::vector<std::pair<int64_t, int64_t>> lengths(const std::vector<std::vector<int64_t>>& sequences);
  void start_epoch(int64_t epoch, int64_t first_index);
  Metrics evaluate_encoded(const std::vector<std::vector<int64_t>>& sequences);

  models::DecoderOnlyLM model_;
  std::shared_ptr<const data::SentencePieceTokenizer> tokenizer_;
  TokenLoss criterion_;
  LanguageModelTaskOptions options_;
  std::vector<std::vector<int64_t>> train_, valid_;  ///< bos + pieces + eos
  std::vector<std::string> valid_text_;
  int64_t cut_ = 0;
  int64_t batches_per_epoch_ = 0;
  torch::Device device_ = torch::kCPU;
  int64_t epoch_ = -1;
  std::vector<std::vector<int64_t>> epoch_batches_;
  std::unique_ptr<data::Prefetcher<Batch>> batches_;
};

}  // namespace torchzoo::train
