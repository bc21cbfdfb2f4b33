#pragma once
// Text in, class probabilities out: SentencePiece-encodes texts behind the
// class token (bos), batches them by length, and runs a sequence classifier.
// Used by TextClassificationTask for training batches and evaluation, and by
// `torchzoo predict` on text lines.
//
// Sequences: bos then the text's first max_tokens pieces (longer texts are
// cut, not dropped, so that every text is classified).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "torchzoo/data/sentencepiece_tokenizer.h"

namespace torchzoo::train {

/// A sequence classifier: the module (for parameters, train/eval, saving) and its forward.
struct SequenceClassifier {
  std::shared_ptr<torch::nn::Module> module;
  /// tokens int64 [B, T], mask bool [B, 1, T] (true = a token) -> logits [B, classes].
  std::function<torch::Tensor(const torch::Tensor& tokens, const torch::Tensor& mask)> forward;
};

/// A padded batch of encoded texts.
struct TokenBatch {
  torch::Tensor tokens;  ///< int64 [B, T], padded
  torch::Tensor mask;    ///< bool [B, 1, T], true = a token
  int64_t ntokens = 0;   ///< non-padding tokens
  TokenBatch to(torch::Device device) const;
};

/// Text in, class probabilities out: texts SentencePiece-encoded behind the class token (bos), batched
/// by length, through a sequence classifier.
///
/// Example:
///   TextClassifier classifier(model, tokenizer, {"de", "es", "fr", "it", "pt"}, /*max_tokens=*/128);
///   auto probabilities = classifier.predict({"Klicken Sie auf OK."});  // [1, 5]
class TextClassifier {
 public:
  TextClassifier(SequenceClassifier model, std::shared_ptr<const data::SentencePieceTokenizer> tokenizer,
                 std::vector<std::string> classes, int64_t max_tokens);

  /// bos + the first max_tokens pieces of `text`; `cut` (if not null) tells whether pieces were left out.
  std::vector<int64_t> encode(const std::string& text, bool* cut = nullptr) const;
  /// Rows `rows` of `sequences`, padded to the longest (on the CPU).
  TokenBatch collate(const std::vector<std::vector<int64_t>>& sequences, const std::vector<int64_t>& rows) const;
  /// Class probabilities [N, classes] (float, CPU) of raw texts, in order; batches hold at most
  /// `batch_tokens` padded tokens (or one text).
  torch::Tensor predict(const std::vector<std::string>& texts, int64_t batch_tokens = 8192);

  SequenceClassifier& model() { return model_; }
  const data::SentencePieceTokenizer& tokenizer() const { return *tokenizer_; }
  const std::vector<std::string>& classes() const { return classes_; }
  int64_t max_tokens() const { return max_tokens_; }

 private:
  SequenceClassifier model_;
  std::shared_ptr<const data::SentencePieceTokenizer> tokenizer_;
  std::vector<std::string> classes_;
  int64_t max_tokens_;
};

}  // namespace torchzoo::train
