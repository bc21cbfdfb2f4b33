#pragma once
// Translation training on a parallel corpus: SentencePiece pieces, batches
// packed by length under a token budget (data/token_batches.h) and collated
// on worker threads, the token loss normalised per target token, and a
// validation that reports loss, token accuracy and corpus BLEU of the
// detokenised greedy (or beam) translations against the raw references, as
// sacreBLEU scores them (train/metrics/bleu.h).
//
// Sequences: source = pieces + eos; target = bos + pieces + eos, split by
// Seq2SeqBatch into the decoder input and the prediction target.
#include <memory>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "torchzoo/data/parallel_text.h"
#include "torchzoo/data/prefetcher.h"
#include "torchzoo/data/sentencepiece_tokenizer.h"
#include "torchzoo/data/seq2seq_batch.h"
#include "torchzoo/data/token_batches.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/tasks/task.h"
#include "torchzoo/train/decode/translator.h"

namespace torchzoo::train {

/// Options of TranslationTask: batching, the length limit, workers and the validation decoding.
struct TranslationTaskOptions {
  /// Token budget, row cap and shuffling of the training batches (validation: the same budget, unshuffled).
  TORCH_ARG(data::TokenBatchOptions, batching) = data::TokenBatchOptions();
  /// Training pairs whose source or target has more pieces than this are left out.
  TORCH_ARG(int64_t, max_tokens) = 128;
  /// Threads collating training batches ahead of the trainer (0: on the training thread).
  TORCH_ARG(int64_t, workers) = 1;
  /// Batches made ahead.
  TORCH_ARG(int64_t, prefetch) = 8;
  /// Validation sentences translated for BLEU (the first ones of the split); -1: all, 0: no BLEU.
  TORCH_ARG(int64_t, bleu_sentences) = -1;
  /// How validation BLEU decodes (greedy by default).
  TORCH_ARG(TranslatorOptions, decoding) = TranslatorOptions();
  /// Validation sentences shown after training.
  TORCH_ARG(int64_t, samples) = 3;
};

/// A parallel corpus as pieces; pairs keep their raw text for BLEU.
struct EncodedPairs {
  std::vector<data::ParallelPair> text;
  std::vector<std::vector<int64_t>> src;  ///< pieces + eos
  std::vector<std::vector<int64_t>> tgt;  ///< bos + pieces + eos
  int64_t dropped = 0;                    ///< pairs left out for length
  int64_t size() const { return static_cast<int64_t>(src.size()); }
};

/// Translation training on a parallel corpus: SentencePiece pieces packed by length under a token
/// budget, and a validation that reports loss, token accuracy and corpus BLEU.
class TranslationTask : public Task {
 public:
  TranslationTask(models::EncoderDecoder model, std::shared_ptr<const data::SentencePieceTokenizer> src_tokenizer,
                  std::shared_ptr<const data::SentencePieceTokenizer> tgt_tokenizer,
                  const std::vector<data::ParallelPair>& train, const std::vector<data::ParallelPair>& valid,
                  TokenLoss criterion, TranslationTaskOptions options);

  std::shared_ptr<torch::nn::Module> module() override { return model_.ptr(); }
  void to(torch::Device device) override;
  int64_t batches_per_epoch() const override { return batches_per_epoch_; }
  BatchLoss train_loss(int64_t epoch, int64_t index) override;
  /// Validation loss per target token, token accuracy and (bleu_sentences != 0) BLEU and chrF.
  Metrics evaluate() override;
  std::string unit() const override { return "tok"; }
  /// A few validation sentences with their reference and greedy translation.
  std::string sample() override;

  /// Loss, token accuracy and BLEU (decoded with `decoding`) of any pairs, e.g. the test split.
  Metrics evaluate_on(const std::vector<data::ParallelPair>& pairs, const TranslatorOptions& decoding,
                      int64_t bleu_sentences = -1);

  /// The test split, when the corpus has one (evaluate_on scores it).
  void set_test(std::vector<data::ParallelPair> test) { test_ = std::move(test); }
  const std::vector<data::ParallelPair>& test_pairs() const { return test_; }

  Translator& translator() { return translator_; }
  const EncodedPairs& train_data() const { return train_; }
  const EncodedPairs& valid_data() const { return valid_; }
  const TranslationTaskOptions& options() const { return options_; }

 private:
  EncodedPairs encode(const std::vector<data::ParallelPair>& pairs, int64_t max_tokens) const;
  /// Padded batch of rows `rows` of `pairs`.
  data::Seq2SeqBatch collate(const EncodedPairs& pairs, const std::vector<int64_t>& rows) const;
  std::vector<std::pair<int64_t, int64_t>> lengths(const EncodedPairs& pairs) const;
  void start_epoch(int64_t epoch, int64_t first_index);
  /// Summed loss, tokens and correct argmax tokens of `pairs` under teacher forcing.
  Metrics teacher_forced(const EncodedPairs& pairs);
  Metrics bleu_of(const EncodedPairs& pairs, const TranslatorOptions& decoding, int64_t sentences);

  models::EncoderDecoder model_;
  std::shared_ptr<const data::SentencePieceTokenizer> src_tokenizer_, tgt_tokenizer_;
  Translator translator_;
  TokenLoss criterion_;
  TranslationTaskOptions options_;
  EncodedPairs train_, valid_;
  std::vector<data::ParallelPair> test_;
  int64_t batches_per_epoch_ = 0;
  torch::Device device_ = torch::kCPU;
  int64_t epoch_ = -1;
  std::vector<std::vector<int64_t>> epoch_batches_;
  std::unique_ptr<data::Prefetcher<data::Seq2SeqBatch>> batches_;
};

}  // namespace torchzoo::train
