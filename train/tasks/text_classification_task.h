#pragma once
// Text classification: labelled texts (data/labeled_text.h) as tokenizer
// pieces behind a class token (text_classifier.h: SentencePiece or WordPiece), batched by length under a token budget
// (data/token_batches.h) on worker threads, a sequence classifier mapping
// tokens [B, T] and their padding mask to logits [B, classes], and evaluation
// by loss, top-1 accuracy, accuracy by text length (in characters) and a
// confusion matrix.
//
// Sequences as TextClassifier makes them: the class token the classifier pools
// (bos, or BERT's [CLS]), the text's first max_tokens pieces, and BERT's [SEP].
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "torchzoo/data/labeled_text.h"
#include "torchzoo/data/prefetcher.h"
#include "torchzoo/data/sentencepiece_tokenizer.h"
#include "torchzoo/data/token_batches.h"
#include "torchzoo/train/metrics/classification_report.h"
#include "torchzoo/train/tasks/task.h"
#include "torchzoo/train/tasks/text_classifier.h"

namespace torchzoo::train {

/// Options of TextClassificationTask: batching, the sequence length, workers and the length buckets.
struct TextClassificationTaskOptions {
  /// Token budget, row cap and shuffling of the training batches (evaluation: the same budget, unshuffled).
  TORCH_ARG(data::TokenBatchOptions, batching) = data::TokenBatchOptions();
  /// Pieces kept per text (after the class token); the rest is cut.
  TORCH_ARG(int64_t, max_tokens) = 128;
  /// Threads collating training batches ahead of the trainer (0: on the training thread).
  TORCH_ARG(int64_t, workers) = 1;
  /// Batches made ahead.
  TORCH_ARG(int64_t, prefetch) = 8;
  /// Upper bounds (characters, inclusive) of the length buckets accuracy is reported by; one more
  /// bucket takes the longer texts. {20, 60}: <= 20, 21-60, > 60.
  TORCH_ARG(std::vector<int64_t>, length_buckets) = std::vector<int64_t>{20, 60};
  /// What the validation split is called in reports ("valid", or "test").
  TORCH_ARG(std::string, valid_name) = "valid";
};

/// Labelled texts as model input.
struct EncodedTexts {
  std::vector<data::LabeledText> text;
  std::vector<std::vector<int64_t>> ids;  ///< the class token, the first max_tokens pieces, [SEP] for BERT
  std::vector<int64_t> labels;            ///< class indices
  std::vector<int64_t> chars;             ///< text length in Unicode code points
  int64_t cut = 0;                        ///< texts longer than max_tokens pieces
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
};

/// Accuracy of one length bucket.
struct LengthBucketAccuracy {
  std::string name;  ///< "<=20", "21-60", ">60"
  int64_t examples = 0;
  double accuracy = 0.0;  ///< NaN without examples
};

/// A classification report and accuracy by text length.
struct TextClassificationReport {
  ClassificationReport overall;
  std::vector<LengthBucketAccuracy> by_length;
  /// "accuracy by length (characters): <=20 0.8123 (n=512) | 21-60 ..."
  std::string by_length_line() const;
};

/// Text classification: labelled texts as pieces behind a class token, batched by length, and
/// evaluation by loss, accuracy, accuracy by text length and a confusion matrix.
class TextClassificationTask : public Task {
 public:
  /// `classes` name the model's outputs in order; every label of `train` and `valid` must be one of them.
  TextClassificationTask(SequenceClassifier model, TextEncoder encoder, std::vector<std::string> classes,
                         const std::vector<data::LabeledText>& train, const std::vector<data::LabeledText>& valid,
                         TokenLoss criterion, TextClassificationTaskOptions options);

  std::shared_ptr<torch::nn::Module> module() override { return classifier_.model().module; }
  void to(torch::Device device) override;
  int64_t batches_per_epoch() const override { return batches_per_epoch_; }
  BatchLoss train_loss(int64_t epoch, int64_t index) override;
  /// Validation loss per text, accuracy, and accuracy per length bucket; keeps the full report.
  Metrics evaluate() override;
  std::string unit() const override { return "tok"; }
  /// The last evaluation's confusion matrix and accuracy by length.
  std::string sample() override;
  /// Writes confusion_matrix.csv (the last evaluation) into `out_dir`.
  void write_report(const std::string& out_dir) override;

  /// The full report on any labelled texts (eval mode, no gradients).
  TextClassificationReport evaluate_on(const std::vector<data::LabeledText>& examples);

  /// The test split, when the data has one (evaluate_on scores it).
  void set_test(std::vector<data::LabeledText> test) { test_ = std::move(test); }
  const std::vector<data::LabeledText>& test_examples() const { return test_; }

  const std::vector<std::string>& classes() const { return classifier_.classes(); }
  TextClassifier& classifier() { return classifier_; }
  const EncodedTexts& train_data() const { return train_; }
  const EncodedTexts& valid_data() const { return valid_; }
  const TextClassificationTaskOptions& options() const { return options_; }
  /// The metric name of length bucket i, e.g. "accuracy_chars_le_20".
  std::string bucket_metric(size_t i) const;

 private:
  struct Batch {
    TokenBatch input;
    torch::Tensor labels;  ///< int64 [B]
  };
  EncodedTexts encode(const std::vector<data::LabeledText>& examples, const std::string& split) const;
  Batch collate(const EncodedTexts& texts, const std::vector<int64_t>& rows) const;
  static std::vector<std::pair<int64_t, int64_t>> lengths(const EncodedTexts& texts);
  void start_epoch(int64_t epoch, int64_t first_index);
  TextClassificationReport evaluate_encoded(const EncodedTexts& texts);
  size_t bucket_of(int64_t chars) const;

  TextClassifier classifier_;
  TokenLoss criterion_;
  TextClassificationTaskOptions options_;
  EncodedTexts train_, valid_;
  std::vector<data::LabeledText> test_;
  int64_t batches_per_epoch_ = 0;
  torch::Device device_ = torch::kCPU;
  int64_t epoch_ = -1;
  std::vector<std::vector<int64_t>> epoch_batches_;
  std::unique_ptr<data::Prefetcher<Batch>> batches_;
  TextClassificationReport last_report_;
};

}  // namespace torchzoo::train
