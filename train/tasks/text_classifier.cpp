#include "torchzoo/train/tasks/text_classifier.h"

#include <algorithm>

#include "torchzoo/data/masks.h"
#include "torchzoo/data/token_batches.h"
#include "torchzoo/common/check.h"

namespace torchzoo::train {

TokenBatch TokenBatch::to(torch::Device device) const {
  return TokenBatch{tokens.to(device, /*non_blocking=*/true), mask.to(device, /*non_blocking=*/true), ntokens};
}

TextClassifier::TextClassifier(SequenceClassifier model, std::shared_ptr<const data::SentencePieceTokenizer> tokenizer,
                               std::vector<std::string> classes, int64_t max_tokens)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      classes_(std::move(classes)),
      max_tokens_(max_tokens) {
  TORCHZOO_CHECK(model_.module && model_.forward, "TextClassifier: a model is required");
  TORCHZOO_CHECK(tokenizer_ != nullptr, "TextClassifier: a tokenizer is required");
  TORCHZOO_CHECK(classes_.size() >= 2, "TextClassifier: needs at least 2 classes, got {}", classes_.size());
  TORCHZOO_CHECK(max_tokens_ >= 1, "TextClassifier: max_tokens must be >= 1, got {}", max_tokens_);
}

std::vector<int64_t> TextClassifier::encode(const std::string& text, bool* cut) const {
  auto pieces = tokenizer_->encode(text);
  const auto keep = std::min<size_t>(pieces.size(), static_cast<size_t>(max_tokens_));
  if (cut != nullptr) *cut = keep < pieces.size();
  std::vector<int64_t> ids;
  ids.reserve(keep + 1);
  ids.push_back(tokenizer_->bos_id());
  ids.insert(ids.end(), pieces.begin(), pieces.begin() + static_cast<std::ptrdiff_t>(keep));
  return ids;
}

TokenBatch TextClassifier::collate(const std::vector<std::vector<int64_t>>& sequences,
                                   const std::vector<int64_t>& rows) const {
  const auto pad = tokenizer_->pad_id();
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
  const auto options = data::TokenBatchOptions().batch_tokens(std::max(batch_tokens, max_tokens_ + 1)).shuffle(false);
  auto probabilities = torch::empty({static_cast<int64_t>(texts.size()), static_cast<int64_t>(classes_.size())});
  for (const auto& rows : data::make_token_batches(lengths, 0, options)) {
    auto batch = collate(sequences, rows).to(device);
    auto p = model_.forward(batch.tokens, batch.mask).softmax(-1).to(torch::kCPU, torch::kFloat);  // [B, classes]
    probabilities.index_copy_(0, torch::tensor(rows, torch::kLong), p);
  }
  return probabilities;  // [N, classes]
}

}  // namespace torchzoo::train
