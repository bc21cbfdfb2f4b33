#include "torchzoo/train/tasks/language_model_task.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "torchzoo/common/check.h"
#include "torchzoo/common/progress_bar.h"
#include "torchzoo/data/masks.h"
#include "torchzoo/train/decode/lm_generation.h"

namespace torchzoo::train {

LanguageModelTask::Batch LanguageModelTask::Batch::to(torch::Device device) const {
  return Batch{input.to(device, /*non_blocking=*/true), target.to(device, /*non_blocking=*/true),
               mask.to(device, /*non_blocking=*/true), ntokens};
}

LanguageModelTask::LanguageModelTask(models::DecoderOnlyLM model,
                                     std::shared_ptr<const data::SentencePieceTokenizer> tokenizer,
                                     const std::vector<std::string>& train, const std::vector<std::string>& valid,
                                     TokenLoss criterion, LanguageModelTaskOptions options)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      criterion_(std::move(criterion)),
      options_(std::move(options)),
      valid_text_(valid) {
  TORCHZOO_CHECK(tokenizer_ != nullptr, "LanguageModelTask: a tokenizer is required");
  TORCHZOO_CHECK(criterion_ != nullptr, "LanguageModelTask: a loss is required");
  TORCHZOO_CHECK(options_.max_tokens() >= 1, "LanguageModelTask: max_tokens must be >= 1, got {}",
                 options_.max_tokens());
  TORCHZOO_CHECK(options_.max_tokens() + 1 <= model_->options.max_len(),
                 "LanguageModelTask: max_tokens ({}) + 1 exceeds the model's max_len {}", options_.max_tokens(),
                 model_->options.max_len());
  TORCHZOO_CHECK(options_.batching().batch_tokens() >= options_.max_tokens() + 2,
                 "LanguageModelTask: batch_tokens ({}) must hold one text of max_tokens ({}) pieces plus bos and eos",
                 options_.batching().batch_tokens(), options_.max_tokens());
  train_ = encode(train, &cut_);
  int64_t valid_cut = 0;
  valid_ = encode(valid, &valid_cut);
  TORCHZOO_CHECK(!train_.empty(), "LanguageModelTask: the training texts are empty");
  TORCHZOO_CHECK(!valid_.empty(), "LanguageModelTask: the validation texts are empty");
  batches_per_epoch_ = static_cast<int64_t>(data::make_token_batches(lengths(train_), 0, options_.batching()).size());
}

void LanguageModelTask::to(torch::Device device) {
  device_ = device;
  model_->to(device);
}

std::vector<std::vector<int64_t>> LanguageModelTask::encode(const std::vector<std::string>& texts, int64_t* cut) const {
  std::vector<std::vector<int64_t>> out;
  out.reserve(texts.size());
  for (const auto& text : texts) {
    auto pieces = tokenizer_->encode(text);
    if (static_cast<int64_t>(pieces.size()) > options_.max_tokens()) {
      pieces.resize(static_cast<size_t>(options_.max_tokens()));
      ++*cut;
    }
    pieces.insert(pieces.begin(), tokenizer_->bos_id());
    pieces.push_back(tokenizer_->eos_id());
    out.push_back(std::move(pieces));
  }
  return out;
}

std::vector<std::pair<int64_t, int64_t>> LanguageModelTask::lengths(
    const std::vector<std::vector<int64_t>>& sequences) {
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(sequences.size());
  for (const auto& s : sequences) out.emplace_back(static_cast<int64_t>(s.size()) - 1, 0);  // positions predicted
  return out;
}

LanguageModelTask::Batch LanguageModelTask::collate(const std::vector<std::vector<int64_t>>& sequences,
                                                    const std::vector<int64_t>& rows) const {
  const auto pad = tokenizer_->pad_id();
  size_t longest = 0;
  for (auto r : rows) longest = std::max(longest, sequences[static_cast<size_t>(r)].size() - 1);
  const auto batch = static_cast<int64_t>(rows.size());
  const auto length = static_cast<int64_t>(longest);
  auto input = torch::full({batch, length}, pad, torch::kLong);   // [B, T]
  auto target = torch::full({batch, length}, pad, torch::kLong);  // [B, T]
  auto* in = input.data_ptr<int64_t>();
  auto* out = target.data_ptr<int64_t>();
  int64_t ntokens = 0;
  for (int64_t b = 0; b < batch; ++b) {
    const auto& s = sequences[static_cast<size_t>(rows[static_cast<size_t>(b)])];
    std::copy(s.begin(), s.end() - 1, in + b * length);   // bos + pieces
    std::copy(s.begin() + 1, s.end(), out + b * length);  // pieces + eos
    ntokens += static_cast<int64_t>(s.size()) - 1;
  }
  return Batch{input, target, data::causal_padding_mask(input, pad), ntokens};
}

void LanguageModelTask::start_epoch(int64_t epoch, int64_t first_index) {
  batches_.reset();  // joins the previous epoch's workers
  epoch_batches_ = data::make_token_batches(lengths(train_), epoch, options_.batching());
  TORCHZOO_CHECK(static_cast<int64_t>(epoch_batches_.size()) == batches_per_epoch_,
                 "LanguageModelTask: epoch {} packs {} batches, epoch 0 packed {}", epoch, epoch_batches_.size(),
                 batches_per_epoch_);
  batches_ = std::make_unique<data::Prefetcher<Batch>>(
      [this](int64_t index) {
        auto batch = collate(train_, epoch_batches_[static_cast<size_t>(index)]);
        data::pin_memory_for(device_, {&batch.input, &batch.target, &batch.mask});
        return batch;
      },
      batches_per_epoch_,
      options_.workers(), options_.prefetch(), first_index);
  epoch_ = epoch;
}

BatchLoss LanguageModelTask::train_loss(int64_t epoch, int64_t index) {
  if (epoch != epoch_ || !batches_ || batches_->position() != index) start_epoch(epoch, index);
  auto batch = batches_->next().to(device_);
  auto log_probs = model_->generator(model_->forward(batch.input, batch.mask));  // [B, T, vocab]
  auto loss = criterion_(log_probs.reshape({-1, log_probs.size(-1)}), batch.target.reshape(-1));
  return BatchLoss{loss, batch.ntokens, batch.ntokens};
}

Metrics LanguageModelTask::evaluate_encoded(const std::vector<std::vector<int64_t>>& sequences) {
  model_->eval();
  torch::NoGradGuard no_grad;
  auto options = options_.batching();
  options.shuffle(false);
  const auto pad = tokenizer_->pad_id();
  double total_loss = 0.0, total_nll = 0.0;
  int64_t tokens = 0, correct = 0, done = 0;
  common::ProgressBar bar("evaluating", static_cast<int64_t>(sequences.size()), "text");
  for (const auto& rows : data::make_token_batches(lengths(sequences), 0, options)) {
    bar.update(done += static_cast<int64_t>(rows.size()));
    auto batch = collate(sequences, rows).to(device_);
    auto log_probs = model_->generator(model_->forward(batch.input, batch.mask));  // [B, T, vocab]
    auto flat = log_probs.reshape({-1, log_probs.size(-1)}).to(torch::kFloat);
    auto target = batch.target.reshape(-1);
    total_loss += criterion_(flat, target).item<double>();
    total_nll += torch::nll_loss(flat, target, /*weight=*/{}, at::Reduction::Sum, pad).item<double>();
    correct += (flat.argmax(-1).eq(target) & target.ne(pad)).sum().item<int64_t>();
    tokens += batch.ntokens;
  }
  bar.finish();
  TORCHZOO_CHECK(tokens > 0, "LanguageModelTask: the evaluation texts hold no tokens");
  const double n = static_cast<double>(tokens);
  return {{"loss", total_loss / n},
          {"token_accuracy", static_cast<double>(correct) / n},
          {"perplexity", std::exp(total_nll / n)}};
}

Metrics LanguageModelTask::evaluate() { return evaluate_encoded(valid_); }

Metrics LanguageModelTask::evaluate_on(const std::vector<std::string>& texts) {
  int64_t cut = 0;
  return evaluate_encoded(encode(texts, &cut));
}

std::string LanguageModelTask::sample() {
  std::ostringstream out;
  const auto n = std::min<int64_t>(options_.samples(), static_cast<int64_t>(valid_.size()));
  for (int64_t i = 0; i < n; ++i) {
    const auto& sequence = valid_[static_cast<size_t>(i)];
    // The first few pieces (bos included) as the prompt.
    const auto prompt_length = std::min<size_t>(4, sequence.size() - 1);
    const std::vector<int64_t> prompt(sequence.begin(), sequence.begin() + static_cast<std::ptrdiff_t>(prompt_length));
    const auto room = model_->options.max_len() - static_cast<int64_t>(prompt.size());
    auto continuation = generate(*model_, prompt,
                                 GenerateOptions()
                                     .max_tokens(std::min<int64_t>(40, room))
                                     .end_symbol(tokenizer_->eos_id())
                                     .sampling(SamplingOptions().temperature(0)));
    std::vector<int64_t> pieces(prompt.begin() + 1, prompt.end());
    for (auto id : continuation) {
      if (id != tokenizer_->eos_id()) pieces.push_back(id);
    }
    out << fmt::format("text:   {}\nprompt: {}\ngreedy: {}\n\n", valid_text_[static_cast<size_t>(i)],
                       tokenizer_->decode({prompt.begin() + 1, prompt.end()}), tokenizer_->decode(pieces));
  }
  return out.str();
}

}  // namespace torchzoo::train
