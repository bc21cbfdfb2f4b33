#pragma once
// Sequence-to-sequence training (the annotated Transformer's run_epoch with
// SimpleLossCompute): an EncoderDecoder, a Seq2SeqSource of batches and a
// token loss (e.g. LabelSmoothing); the loss is normalised per target token.
#include <functional>
#include <memory>
#include <vector>

#include "torchzoo/data/seq2seq_source.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/tasks/task.h"

namespace torchzoo::train {

/// The demonstration a Seq2SeqTask decodes after training.
struct Seq2SeqSample {
  std::vector<int64_t> src;  ///< source tokens of the demonstration
  int64_t max_len = 0;       ///< decoding length, start symbol included
  /// First token of the decoding.
  int64_t start_symbol = 1;
  int64_t end_symbol = -1;   ///< -1: none
  bool expect_copy = false;  ///< the copy task: say whether the decoding equals the source
};

/// Sequence-to-sequence training (the annotated Transformer's run_epoch with SimpleLossCompute): an
/// EncoderDecoder, a Seq2SeqSource of batches and a token loss normalised per target token.
class Seq2SeqTask : public Task {
 public:
  Seq2SeqTask(models::EncoderDecoder model, std::shared_ptr<data::Seq2SeqSource> source, TokenLoss criterion,
              Seq2SeqSample sample);

  std::shared_ptr<torch::nn::Module> module() override { return model_.ptr(); }
  void to(torch::Device device) override;
  int64_t batches_per_epoch() const override { return source_->num_batches(data::Split::kTrain); }
  BatchLoss train_loss(int64_t epoch, int64_t index) override;
  /// Validation loss per token, token accuracy (argmax equals the target, padding excluded) and
  /// sequence accuracy: the share of sequences whose every target token is the argmax, which are
  /// the ones greedy decoding reproduces exactly.
  Metrics evaluate() override;
  std::string unit() const override { return "tok"; }
  /// "src: 1 2 3 ... -> greedy: 1 2 3 ..." for the configured sample.
  std::string sample() override;

  /// Greedy decoding of `src` tokens (one row) with the sample's start and end symbols;
  /// max_len 0 decodes as many tokens as the source has.
  std::vector<int64_t> decode(const std::vector<int64_t>& src, int64_t max_len = 0);

  models::EncoderDecoder& model() { return model_; }
  const data::Seq2SeqSource& source() const { return *source_; }

 private:
  BatchLoss loss(const data::Seq2SeqBatch& batch);

  models::EncoderDecoder model_;
  std::shared_ptr<data::Seq2SeqSource> source_;
  TokenLoss criterion_;
  Seq2SeqSample sample_;
  torch::Device device_ = torch::kCPU;
};

}  // namespace torchzoo::train
