#include "torchzoo/train/tasks/text_classifier.h"

#include <algorithm>

#include "torchzoo/data/masks.h"
#include "torchzoo/data/token_batches.h"
#include "torchzoo/common/check.h"

namespace torchzoo::train {

TokenBatch TokenBatch::to(torch::Device device) const {
  return TokenBatch{tokens.to(device, /*non_blocking=*/true), mask.to(device, /*non_blocking=*/true), ntokens};
}

TextEncoder sentencepiece_encoder(std::shared_ptr<const data::SentencePieceTokenizer> tokenizer) {
  TORCHZOO_CHECK(tokenizer != nullptr, "sentencepiece_encoder: a tokenizer is required");
  TextEncoder e;
  e.pieces = [tokenizer](const std::string& text) { return tokenizer->encode(text); };
  e.prefix = {tokenizer->bos_id()};
  e.pad_id = tokenizer->pad_id();
  e.piece_name = [tokenizer](int64_t id) { return tokenizer->id_to_piece(id); };
  e.file = tokenizer->path();
  e.file_name = "tokenizer.model";
  return e;
}

TextEncoder wordpiece_encoder(std::shared_ptr<const data::WordPieceTokenizer> tokenizer, const std::string& path) {
  TORCHZOO_CHECK(tokenizer != nullptr, "wordpiece_encoder: a tokenizer is required");
  TextEncoder e;
  e.pieces = [tokenizer](const std::string& text) { return tokenizer->encode(text, /*add_special_tokens=*/false).ids; };
  e.prefix = {tokenizer->cls_id()};
  e.suffix = {tokenizer->sep_id()};
  e.pad_id = tokenizer->pad_id();
  e.piece_name = [tokenizer](int64_t id) { return tokenizer->id_to_token(id); };
  e.file = path;
  e.file_name = "tokenizer.json";
  return e;
}

TextClassifier::TextClassifier(SequenceClassifier model, TextEncoder encoder, std::vector<std::string> classes,
                               int64_t max_tokens)
    : model_(std::move(model)), encoder_(std::move(encoder)), classes_(std::move(classes)), max_tokens_(max_tokens) {
  TORCHZOO_CHECK(model_.module && model_.forward, "TextClassifier: a model is required");
  TORCHZOO_CHECK(encoder_.pieces && encoder_.piece_name, "TextClassifier: a tokenizer is required");
  TORCHZOO_CHECK(classes_.size() >= 2, "TextClassifier: needs at least 2 classes, got {}", classes_.size());
  TORCHZOO_CHECK(max_tokens_ >= 1, "TextClassifier: max_tokens must be >= 1, got {}", max_tokens_);
}

std::vector<int64_t> TextClassifier::encode(const std::string& text, bool* cut) const {
  auto pieces = encoder_.pieces(text);
  const auto keep = std::min<size_t>(pieces.size(), static_cast<size_t>(max_tokens_));
  if (cut != nullptr) *cut = keep < pieces.size();
  std::vector<int64_t> ids;
  ids.reserve(encoder_.prefix.size() + keep + encoder_.suffix.size());
  ids.insert(ids.end(), encoder_.prefix.begin(), encoder_.prefix.end());
  ids.insert(ids.end(), pieces.begin(), pieces.begin() + static_cast<std::ptrdiff_t>(keep));
  ids.insert(ids.end(), encoder_.suffix.begin(), encoder_.suffix.end());
  return ids;
}

TokenBatch TextClassifier::collate(const std::vector<std::vector<int64_t>>& sequences,
                                   const std::vector<int64_t>& rows) const {
  const auto pad = encoder_.pad_id;
  size_t longest = 0;
  for (auto r : rows) longest = std::max(longest, sequences[static_cast<size_t>(r)].size());
  const auto batch = static_cast<int64_t>(rows.size());
  auto tokens = torch::full({batch, static_cast<int64_t>(longest)}, pad, torch::kLong);  // [B, T]
  auto* t = tokens.data_ptr<int64_t>();
  int64_t ntokens = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const auto& ids = sequences[static_cast<size_t>(rows[static_cast<size_t>(b)])];
    std::copy(ids.begin(), ids.end(), t + b * static_cast<int64_t>(longest));
    ntokens += static_cast<int64_t>(ids.size());
  }
  return TokenBatch{tokens, data::padding_mask(tokens, pad), ntokens};
}

torch::Tensor TextClassifier::predict(const std::vector<std::string>& texts, int64_t batch_tokens) {
  model_.module->eval();
  torch::NoGradGuard no_grad;
  const auto device = model_.module->parameters().front().device();
  std::vector<std::vector<int64_t>> sequences;
  std::vector<std::pair<int64_t, int64_t>> lengths;
  for (const auto& text : texts) {
    sequences.push_back(encode(text));
    lengths.emplace_back(static_cast<int64_t>(sequences.back().size()), 0);
  }
  const auto longest = max_tokens_ + static_cast<int64_t>(encoder_.prefix.size() + encoder_.suffix.size());
  const auto options = data::TokenBatchOptions().batch_tokens(std::max(batch_tokens, longest)).shuffle(false);
  auto probabilities = torch::empty({static_cast<int64_t>(texts.size()), static_cast<int64_t>(classes_.size())});
  for (const auto& rows : data::make_token_batches(lengths, 0, options)) {
    auto batch = collate(sequences, rows).to(device);
    auto p = model_.forward(batch.tokens, batch.mask).softmax(-1).to(torch::kCPU, torch::kFloat);  // [B, classes]
    probabilities.index_copy_(0, torch::tensor(rows, torch::kLong), p);
  }
  return probabilities;  // [N, classes]
}

}  // namespace torchzoo::train
