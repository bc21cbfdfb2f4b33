#pragma once
// Sentence embeddings from a sentence-transformers folder (e.g.
// all-MiniLM-L6-v2): its BERT (config.json, model.safetensors), its WordPiece
// tokenizer (tokenizer.json), and the modules its modules.json lists after the
// Transformer -- Pooling (1_Pooling/config.json: mean, cls or max over the
// tokens) and, when listed, Normalize (unit L2 norm). Sequences are cut at
// sentence_bert_config.json's max_seq_length, as sentence-transformers does
// (else at tokenizer.json's truncation). Sentences are embedded in batches of
// similar length, and come back in their order.
//
// Example:
//   train::SentenceEmbedder embedder("all-MiniLM-L6-v2");
//   auto vectors = embedder.embed({"A cat.", "A dog."});   // [2, 384], unit rows
//   auto cosine = (vectors[0] * vectors[1]).sum();
#include <string>
#include <vector>

#include <torch/types.h>

#include "torchzoo/data/wordpiece_tokenizer.h"
#include "torchzoo/models/bert.h"

namespace torchzoo::train {

/// How the token vectors become one sentence vector.
enum class SentencePooling { kMean, kCls, kMax };

/// A sentence-transformers folder's encoder: texts in, one vector each out (see the top of this file).
class SentenceEmbedder {
 public:
  /// Reads the folder; errors name the file and what was expected.
  explicit SentenceEmbedder(const std::string& folder, torch::Device device = torch::kCPU);

  /// [N, hidden] float32 on the CPU, one row a sentence, in order; `batch_size` sentences a forward.
  torch::Tensor embed(const std::vector<std::string>& sentences, int64_t batch_size = 32);

  int64_t dimension() const { return bert_->options.hidden_size(); }
  SentencePooling pooling() const { return pooling_; }
  bool normalize() const { return normalize_; }
  int64_t max_length() const { return tokenizer_.max_length(); }
  const data::WordPieceTokenizer& tokenizer() const { return tokenizer_; }
  models::BertModel& model() { return bert_; }

 private:
  data::WordPieceTokenizer tokenizer_;
  models::BertModel bert_{nullptr};
  SentencePooling pooling_ = SentencePooling::kMean;
  bool normalize_ = false;
  torch::Device device_;
};

}  // namespace torchzoo::train
