#pragma once
// Text in, class probabilities out: encodes texts with a tokenizer
// (SentencePiece behind the class token bos, or BERT's WordPiece between [CLS]
// and [SEP]), batches them by length, and runs a sequence classifier. Used by
// TextClassificationTask for training batches and evaluation, and by
// `torchzoo predict` on text lines.
//
// Sequences: the encoder's prefix, the text's first max_tokens pieces (longer
// texts are cut, not dropped, so that every text is classified), its suffix.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "torchzoo/data/sentencepiece_tokenizer.h"
#include "torchzoo/data/wordpiece_tokenizer.h"

namespace torchzoo::train {

/// A sequence classifier: the module (for parameters, train/eval, saving) and its forward.
struct SequenceClassifier {
  std::shared_ptr<torch::nn::Module> module;
  /// tokens int64 [B, T], mask bool [B, 1, T] (true = a token) -> logits [B, classes].
  std::function<torch::Tensor(const torch::Tensor& tokens, const torch::Tensor& mask)> forward;
};

/// How a classifier's texts become ids: a tokenizer's pieces between fixed prefix and suffix ids.
struct TextEncoder {
  /// The text's pieces, no special tokens.
  std::function<std::vector<int64_t>(const std::string& text)> pieces;
  std::vector<int64_t> prefix;  ///< the class token: bos, or [CLS]
  std::vector<int64_t> suffix;  ///< none, or [SEP]
  int64_t pad_id = 0;
  /// An id's piece, for pictures and messages.
  std::function<std::string(int64_t id)> piece_name;
  /// The tokenizer's file, which exports carry beside the model, and the name it has there.
  std::string file;
  std::string file_name;
};

/// bos + SentencePiece pieces (TransformerEncoderClassifier's input); exported as tokenizer.model.
TextEncoder sentencepiece_encoder(std::shared_ptr<const data::SentencePieceTokenizer> tokenizer);
/// [CLS] + WordPiece pieces + [SEP] (BERT's input) from `path` (a tokenizer.json), exported under that name.
TextEncoder wordpiece_encoder(std::shared_ptr<const data::WordPieceTokenizer> tokenizer, const std::string& path);

/// A padded batch of encoded texts.
struct TokenBatch {
  torch::Tensor tokens;  ///< int64 [B, T], padded
  torch::Tensor mask;    ///< bool [B, 1, T], true = a token
  int64_t ntokens = 0;   ///< non-padding tokens
  TokenBatch to(torch::Device device) const;
};

/// Text in, class probabilities out: texts encoded behind the class token, batched by length, through a
/// sequence classifier.
///
/// Example:
///   TextClassifier classifier(model, sentencepiece_encoder(tokenizer), {"de", "es", "fr", "it", "pt"}, 128);
///   auto probabilities = classifier.predict({"Klicken Sie auf OK."});  // [1, 5]
class TextClassifier {
 public:
  TextClassifier(SequenceClassifier model, TextEncoder encoder, std::vector<std::string> classes, int64_t max_tokens);

  /// prefix + the first max_tokens pieces of `text` + suffix; `cut` (if not null) tells whether pieces were
  /// left out.
  std::vector<int64_t> encode(const std::string& text, bool* cut = nullptr) const;
  /// Rows `rows` of `sequences`, padded to the longest (on the CPU).
  TokenBatch collate(const std::vector<std::vector<int64_t>>& sequences, const std::vector<int64_t>& rows) const;
  /// Class probabilities [N, classes] (float, CPU) of raw texts, in order; batches hold at most
  /// `batch_tokens` padded tokens (or one text).
  torch::Tensor predict(const std::vector<std::string>& texts, int64_t batch_tokens = 8192);

  SequenceClassifier& model() { return model_; }
  const TextEncoder& encoder() const { return encoder_; }
  const std::vector<std::string>& classes() const { return classes_; }
  int64_t max_tokens() const { return max_tokens_; }

 private:
  SequenceClassifier model_;
  TextEncoder encoder_;
  std::vector<std::string> classes_;
  int64_t max_tokens_;
};

}  // namespace torchzoo::train
