#include "torchzoo/train/tasks/seq2seq_task.h"

#include "torchzoo/data/masks.h"
#include "torchzoo/common/check.h"
#include "torchzoo/train/decode/greedy_decode.h"

namespace torchzoo::train {

Seq2SeqTask::Seq2SeqTask(models::EncoderDecoder model, std::shared_ptr<data::Seq2SeqSource> source, TokenLoss criterion,
                         Seq2SeqSample sample)
    : model_(std::move(model)),
      source_(std::move(source)),
      criterion_(std::move(criterion)),
      sample_(std::move(sample)) {
  TORCHZOO_CHECK(source_ != nullptr, "Seq2SeqTask: a batch source is required");
  TORCHZOO_CHECK(criterion_ != nullptr, "Seq2SeqTask: a loss is required");
}

void Seq2SeqTask::to(torch::Device device) {
  device_ = device;
  model_->to(device);
}

BatchLoss Seq2SeqTask::loss(const data::Seq2SeqBatch& cpu_batch) {
  auto batch = cpu_batch.to(device_);
  auto out = model_->forward(batch.src, batch.tgt, batch.src_mask, batch.tgt_mask);  // [B, T, d_model]
  auto log_probs = model_->generator(out);                                           // [B, T, vocab]
  auto loss = criterion_(log_probs.reshape({-1, log_probs.size(-1)}), batch.tgt_y.reshape(-1));
  return BatchLoss{loss, batch.ntokens, batch.ntokens};
}

BatchLoss Seq2SeqTask::train_loss(int64_t epoch, int64_t index) {
  return loss(source_->batch(data::Split::kTrain, epoch, index));
}

Metrics Seq2SeqTask::evaluate() {
  double total_loss = 0.0;
  int64_t tokens = 0;
  int64_t correct = 0;
  int64_t sequences = 0;
  int64_t exact = 0;
  const auto pad = source_->pad();
  for (int64_t i = 0; i < source_->num_batches(data::Split::kValid); ++i) {
    auto batch = source_->batch(data::Split::kValid, 0, i).to(device_);
    auto log_probs = model_->generator(model_->forward(batch.src, batch.tgt, batch.src_mask, batch.tgt_mask));
    total_loss += criterion_(log_probs.reshape({-1, log_probs.size(-1)}), batch.tgt_y.reshape(-1)).item<double>();
    auto real = batch.tgt_y.ne(pad);
    auto right = log_probs.argmax(-1).eq(batch.tgt_y) | real.logical_not();  // [B, T], padding counts as right
    correct += (right & real).sum().item<int64_t>();
    exact += right.all(-1).sum().item<int64_t>();
    sequences += batch.tgt_y.size(0);
    tokens += batch.ntokens;
  }
  TORCHZOO_CHECK(tokens > 0, "Seq2SeqTask: the validation batches hold no target tokens");
  return {{"loss", total_loss / static_cast<double>(tokens)},
          {"token_accuracy", static_cast<double>(correct) / static_cast<double>(tokens)},
          {"sequence_accuracy", static_cast<double>(exact) / static_cast<double>(sequences)}};
}

std::vector<int64_t> Seq2SeqTask::decode(const std::vector<int64_t>& src_tokens, int64_t max_len) {
  TORCHZOO_CHECK(!src_tokens.empty(), "decode: the source sentence is empty");
  const auto vocab = model_->options.src_vocab();
  for (auto token : src_tokens) {
    TORCHZOO_CHECK(token >= 0 && token < vocab, "decode: token {} is outside the source vocabulary [0, {})", token,
                   vocab);
  }
  model_->eval();
  auto src = torch::tensor(src_tokens, torch::kLong).unsqueeze(0).to(device_);  // [1, T]
  auto src_mask = data::padding_mask(src, source_->pad());                      // [1, 1, T]
  if (max_len <= 0) max_len = static_cast<int64_t>(src_tokens.size());
  auto tokens =
      greedy_decode(
          *model_, src, src_mask,
          GreedyDecodeOptions(max_len, sample_.start_symbol).end_symbol(sample_.end_symbol).pad(source_->pad()))
          .to(torch::kCPU)
          .squeeze(0);
  return std::vector<int64_t>(tokens.data_ptr<int64_t>(), tokens.data_ptr<int64_t>() + tokens.numel());
}

std::string Seq2SeqTask::sample() {
  if (sample_.src.empty()) return "";
  auto decoded = decode(sample_.src, sample_.max_len);
  auto text = fmt::format("src:    {}\ngreedy: {}", fmt::join(sample_.src, " "), fmt::join(decoded, " "));
  if (sample_.expect_copy) {
    text += decoded == sample_.src ? "\nthe greedy decoding copies the source exactly"
                                   : "\nthe greedy decoding differs from the source";
  }
  return text;
}

}  // namespace torchzoo::train
