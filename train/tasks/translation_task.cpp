#include "torchzoo/train/tasks/translation_task.h"

#include <algorithm>

#include "torchzoo/common/check.h"
#include "torchzoo/common/progress_bar.h"
#include "torchzoo/train/metrics/bleu.h"
#include "torchzoo/train/metrics/chrf.h"

namespace torchzoo::train {

TranslationTask::TranslationTask(models::EncoderDecoder model,
                                 std::shared_ptr<const data::SentencePieceTokenizer> src_tokenizer,
                                 std::shared_ptr<const data::SentencePieceTokenizer> tgt_tokenizer,
                                 const std::vector<data::ParallelPair>& train,
                                 const std::vector<data::ParallelPair>& valid, TokenLoss criterion,
                                 TranslationTaskOptions options)
    : model_(std::move(model)),
      src_tokenizer_(src_tokenizer),
      tgt_tokenizer_(tgt_tokenizer),
      translator_(model_, std::move(src_tokenizer), std::move(tgt_tokenizer)),
      criterion_(std::move(criterion)),
      options_(std::move(options)) {
  TORCHZOO_CHECK(criterion_ != nullptr, "TranslationTask: a loss is required");
  TORCHZOO_CHECK(options_.max_tokens() >= 1, "TranslationTask: max_tokens must be >= 1, got {}", options_.max_tokens());
  // The budget counts the longer side with its bos and eos.
  TORCHZOO_CHECK(options_.batching().batch_tokens() >= options_.max_tokens() + 2,
                 "TranslationTask: batch_tokens ({}) must hold one pair of max_tokens ({}) pieces plus bos and eos",
                 options_.batching().batch_tokens(), options_.max_tokens());
  train_ = encode(train, options_.max_tokens());
  valid_ = encode(valid, model_->options.max_len() - 2);
  TORCHZOO_CHECK(train_.size() > 0, "TranslationTask: no training pair has at most {} pieces on each side ({} given)",
                 options_.max_tokens(), train.size());
  TORCHZOO_CHECK(valid_.size() > 0, "TranslationTask: the validation split is empty");
  batches_per_epoch_ = static_cast<int64_t>(data::make_token_batches(lengths(train_), 0, options_.batching()).size());
}

void TranslationTask::to(torch::Device device) {
  device_ = device;
  model_->to(device);
}

EncodedPairs TranslationTask::encode(const std::vector<data::ParallelPair>& pairs, int64_t max_tokens) const {
  EncodedPairs out;
  for (const auto& pair : pairs) {
    auto src = src_tokenizer_->encode(pair.src);
    auto tgt = tgt_tokenizer_->encode(pair.tgt);
    if (static_cast<int64_t>(src.size()) > max_tokens || static_cast<int64_t>(tgt.size()) > max_tokens) {
      ++out.dropped;
      continue;
    }
    src.push_back(src_tokenizer_->eos_id());
    tgt.insert(tgt.begin(), tgt_tokenizer_->bos_id());
    tgt.push_back(tgt_tokenizer_->eos_id());
    out.text.push_back(pair);
    out.src.push_back(std::move(src));
    out.tgt.push_back(std::move(tgt));
  }
  return out;
}

std::vector<std::pair<int64_t, int64_t>> TranslationTask::lengths(const EncodedPairs& pairs) const {
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(pairs.src.size());
  for (size_t i = 0; i < pairs.src.size(); ++i) {
    out.emplace_back(static_cast<int64_t>(pairs.src[i].size()), static_cast<int64_t>(pairs.tgt[i].size()));
  }
  return out;
}

data::Seq2SeqBatch TranslationTask::collate(const EncodedPairs& pairs, const std::vector<int64_t>& rows) const {
  const auto pad = tgt_tokenizer_->pad_id();
  size_t src_len = 0, tgt_len = 0;
  for (auto r : rows) {
    src_len = std::max(src_len, pairs.src[static_cast<size_t>(r)].size());
    tgt_len = std::max(tgt_len, pairs.tgt[static_cast<size_t>(r)].size());
  }
  const auto batch = static_cast<int64_t>(rows.size());
  auto src = torch::full({batch, static_cast<int64_t>(src_len)}, pad, torch::kLong);  // [B, T_src]
  auto tgt = torch::full({batch, static_cast<int64_t>(tgt_len)}, pad, torch::kLong);  // [B, T_tgt]
  auto* s = src.data_ptr<int64_t>();
  auto* t = tgt.data_ptr<int64_t>();
  for (int64_t b = 0; b < batch; ++b) {
    const auto& src_ids = pairs.src[static_cast<size_t>(rows[static_cast<size_t>(b)])];
    const auto& tgt_ids = pairs.tgt[static_cast<size_t>(rows[static_cast<size_t>(b)])];
    std::copy(src_ids.begin(), src_ids.end(), s + b * static_cast<int64_t>(src_len));
    std::copy(tgt_ids.begin(), tgt_ids.end(), t + b * static_cast<int64_t>(tgt_len));
  }
  return data::Seq2SeqBatch::make(src, tgt, pad);
}

void TranslationTask::start_epoch(int64_t epoch, int64_t first_index) {
  batches_.reset();  // joins the previous epoch's workers
  epoch_batches_ = data::make_token_batches(lengths(train_), epoch, options_.batching());
  TORCHZOO_CHECK(static_cast<int64_t>(epoch_batches_.size()) == batches_per_epoch_,
                 "TranslationTask: epoch {} packs {} batches, epoch 0 packed {}", epoch, epoch_batches_.size(),
                 batches_per_epoch_);
  batches_ = std::make_unique<data::Prefetcher<data::Seq2SeqBatch>>(
      [this](int64_t index) {
        auto batch = collate(train_, epoch_batches_[static_cast<size_t>(index)]);
        data::pin_memory_for(device_, {&batch.src, &batch.src_mask, &batch.tgt, &batch.tgt_y, &batch.tgt_mask});
        return batch;
      },
      batches_per_epoch_,
      options_.workers(), options_.prefetch(), first_index);
  epoch_ = epoch;
}

BatchLoss TranslationTask::train_loss(int64_t epoch, int64_t index) {
  if (epoch != epoch_ || !batches_ || batches_->position() != index) start_epoch(epoch, index);
  auto batch = batches_->next().to(device_);
  auto out = model_->forward(batch.src, batch.tgt, batch.src_mask, batch.tgt_mask);  // [B, T, d_model]
  auto log_probs = model_->generator(out);                                           // [B, T, vocab]
  auto loss = criterion_(log_probs.reshape({-1, log_probs.size(-1)}), batch.tgt_y.reshape(-1));
  return BatchLoss{loss, batch.ntokens, batch.ntokens};
}

Metrics TranslationTask::teacher_forced(const EncodedPairs& pairs) {
  auto options = options_.batching();
  options.shuffle(false);
  int64_t longest = 0;  // evaluation keeps every pair: the budget grows to fit the longest
  for (const auto& [src_len, tgt_len] : lengths(pairs)) longest = std::max({longest, src_len, tgt_len});
  options.batch_tokens(std::max(options.batch_tokens(), longest));
  double total_loss = 0.0;
  int64_t tokens = 0, correct = 0;
  const auto pad = tgt_tokenizer_->pad_id();
  for (const auto& rows : data::make_token_batches(lengths(pairs), 0, options)) {
    auto batch = collate(pairs, rows).to(device_);
    auto log_probs = model_->generator(model_->forward(batch.src, batch.tgt, batch.src_mask, batch.tgt_mask));
    total_loss += criterion_(log_probs.reshape({-1, log_probs.size(-1)}), batch.tgt_y.reshape(-1)).item<double>();
    correct += (log_probs.argmax(-1).eq(batch.tgt_y) & batch.tgt_y.ne(pad)).sum().item<int64_t>();
    tokens += batch.ntokens;
  }
  TORCHZOO_CHECK(tokens > 0, "TranslationTask: the evaluation pairs hold no target tokens");
  return {{"loss", total_loss / static_cast<double>(tokens)},
          {"token_accuracy", static_cast<double>(correct) / static_cast<double>(tokens)}};
}

Metrics TranslationTask::bleu_of(const EncodedPairs& pairs, const TranslatorOptions& decoding, int64_t sentences) {
  const auto n = sentences < 0 ? pairs.size() : std::min(sentences, pairs.size());
  std::vector<std::vector<int64_t>> sources(pairs.src.begin(), pairs.src.begin() + n);
  common::ProgressBar bar("decoding for BLEU", static_cast<int64_t>(sources.size()), "sent");
  const auto outputs = translator_.translate_ids(sources, decoding, [&](int64_t done, int64_t) { bar.update(done); });
  bar.finish();
  std::vector<std::string> hypotheses, references;
  for (int64_t i = 0; i < n; ++i) {
    hypotheses.push_back(tgt_tokenizer_->decode(outputs[static_cast<size_t>(i)]));
    references.push_back(pairs.text[static_cast<size_t>(i)].tgt);
  }
  return {{"bleu", corpus_bleu(hypotheses, {references}).score}, {"chrf", corpus_chrf(hypotheses, {references}).score}};
}

Metrics TranslationTask::evaluate() {
  auto metrics = teacher_forced(valid_);
  if (options_.bleu_sentences() != 0) {
    metrics.merge(bleu_of(valid_, options_.decoding(), options_.bleu_sentences()));
  }
  return metrics;
}

Metrics TranslationTask::evaluate_on(const std::vector<data::ParallelPair>& pairs, const TranslatorOptions& decoding,
                                     int64_t bleu_sentences) {
  model_->eval();
  torch::NoGradGuard no_grad;
  auto encoded = encode(pairs, model_->options.max_len() - 2);
  TORCHZOO_CHECK(encoded.size() > 0, "TranslationTask: no pairs to evaluate");
  auto metrics = teacher_forced(encoded);
  if (bleu_sentences != 0) metrics.merge(bleu_of(encoded, decoding, bleu_sentences));
  return metrics;
}

std::string TranslationTask::sample() {
  const auto n = std::min<int64_t>(options_.samples(), valid_.size());
  if (n == 0) return "";
  std::vector<std::string> sources;
  for (int64_t i = 0; i < n; ++i) sources.push_back(valid_.text[static_cast<size_t>(i)].src);
  const auto translations = translator_.translate(sources, TranslatorOptions());
  std::string text;
  for (int64_t i = 0; i < n; ++i) {
    text += fmt::format("{}src:    {}\nref:    {}\ngreedy: {}", i == 0 ? "" : "\n\n", sources[static_cast<size_t>(i)],
                        valid_.text[static_cast<size_t>(i)].tgt, translations[static_cast<size_t>(i)]);
  }
  return text;
}

}  // namespace torchzoo::train
