#include "torchzoo/train/tasks/text_classification_task.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "torchzoo/common/check.h"
#include "torchzoo/common/progress_bar.h"
#include "torchzoo/common/utf8.h"
#include "torchzoo/data/text_file.h"

namespace torchzoo::train {

std::string TextClassificationReport::by_length_line() const {
  std::string line = "accuracy by length (characters):";
  for (size_t i = 0; i < by_length.size(); ++i) {
    line += fmt::format("{} {} {:.4f} (n={})", i == 0 ? "" : " |", by_length[i].name, by_length[i].accuracy,
                        by_length[i].examples);
  }
  return line;
}

TextClassificationTask::TextClassificationTask(SequenceClassifier model, TextEncoder encoder,
                                               std::vector<std::string> classes,
                                               const std::vector<data::LabeledText>& train,
                                               const std::vector<data::LabeledText>& valid, TokenLoss criterion,
                                               TextClassificationTaskOptions options)
    : classifier_(std::move(model), std::move(encoder), std::move(classes), options.max_tokens()),
      criterion_(std::move(criterion)),
      options_(std::move(options)) {
  TORCHZOO_CHECK(criterion_ != nullptr, "TextClassificationTask: a loss is required");
  const auto specials = static_cast<int64_t>(classifier_.encoder().prefix.size() + classifier_.encoder().suffix.size());
  TORCHZOO_CHECK(options_.batching().batch_tokens() >= options_.max_tokens() + specials,
                 "TextClassificationTask: batch_tokens ({}) must hold one text of max_tokens ({}) pieces plus the "
                 "special tokens ({})",
                 options_.batching().batch_tokens(), options_.max_tokens(), specials);
  const auto& bounds = options_.length_buckets();
  TORCHZOO_CHECK(
      std::is_sorted(bounds.begin(), bounds.end()) &&
          std::adjacent_find(bounds.begin(), bounds.end()) == bounds.end() && (bounds.empty() || bounds.front() >= 1),
      "TextClassificationTask: length_buckets must be positive and increasing, got [{}]", fmt::join(bounds, ", "));
  train_ = encode(train, "training");
  valid_ = encode(valid, options_.valid_name());
  TORCHZOO_CHECK(train_.size() > 0, "TextClassificationTask: the training split is empty");
  TORCHZOO_CHECK(valid_.size() > 0, "TextClassificationTask: the {} split is empty", options_.valid_name());
  batches_per_epoch_ = static_cast<int64_t>(data::make_token_batches(lengths(train_), 0, options_.batching()).size());
}

void TextClassificationTask::to(torch::Device device) {
  device_ = device;
  classifier_.model().module->to(device);
}

EncodedTexts TextClassificationTask::encode(const std::vector<data::LabeledText>& examples,
                                            const std::string& split) const {
  EncodedTexts out;
  for (size_t i = 0; i < examples.size(); ++i) {
    const auto& example = examples[i];
    const auto& classes = classifier_.classes();
    const auto it = std::find(classes.begin(), classes.end(), example.label);
    TORCHZOO_CHECK(it != classes.end(),
                   "TextClassificationTask: example {} of the {} split has label '{}', not one of "
                   "the classes [{}]",
                   i + 1, split, example.label, fmt::join(classes, ", "));
    bool cut = false;
    auto ids = classifier_.encode(example.text, &cut);
    out.cut += cut;
    out.text.push_back(example);
    out.ids.push_back(std::move(ids));
    out.labels.push_back(it - classes.begin());
    out.chars.push_back(common::utf8_length(example.text));
  }
  return out;
}

std::vector<std::pair<int64_t, int64_t>> TextClassificationTask::lengths(const EncodedTexts& texts) {
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(texts.ids.size());
  for (const auto& ids : texts.ids) out.emplace_back(static_cast<int64_t>(ids.size()), 0);
  return out;
}

TextClassificationTask::Batch TextClassificationTask::collate(const EncodedTexts& texts,
                                                              const std::vector<int64_t>& rows) const {
  auto labels = torch::empty({static_cast<int64_t>(rows.size())}, torch::kLong);  // [B]
  auto* l = labels.data_ptr<int64_t>();
  for (size_t b = 0; b < rows.size(); ++b) l[b] = texts.labels[static_cast<size_t>(rows[b])];
  return Batch{classifier_.collate(texts.ids, rows), labels};
}

void TextClassificationTask::start_epoch(int64_t epoch, int64_t first_index) {
  batches_.reset();  // joins the previous epoch's workers
  epoch_batches_ = data::make_token_batches(lengths(train_), epoch, options_.batching());
  TORCHZOO_CHECK(static_cast<int64_t>(epoch_batches_.size()) == batches_per_epoch_,
                 "TextClassificationTask: epoch {} packs {} batches, epoch 0 packed {}", epoch, epoch_batches_.size(),
                 batches_per_epoch_);
  batches_ = std::make_unique<data::Prefetcher<Batch>>(
      [this](int64_t index) {
        auto batch = collate(train_, epoch_batches_[static_cast<size_t>(index)]);
        data::pin_memory_for(device_, {&batch.input.tokens, &batch.input.mask, &batch.labels});
        return batch;
      },
      batches_per_epoch_,
      options_.workers(), options_.prefetch(), first_index);
  epoch_ = epoch;
}

BatchLoss TextClassificationTask::train_loss(int64_t epoch, int64_t index) {
  if (epoch != epoch_ || !batches_ || batches_->position() != index) start_epoch(epoch, index);
  auto batch = batches_->next();
  auto input = batch.input.to(device_);
  auto labels = batch.labels.to(device_, /*non_blocking=*/true);
  auto logits = classifier_.model().forward(input.tokens, input.mask);  // [B, classes]
  const auto n = labels.size(0);
  return BatchLoss{criterion_(logits, labels), n, input.ntokens};
}

size_t TextClassificationTask::bucket_of(int64_t chars) const {
  const auto& bounds = options_.length_buckets();
  return static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), chars) - bounds.begin());
}

std::string TextClassificationTask::bucket_metric(size_t i) const {
  const auto& bounds = options_.length_buckets();
  if (i == bounds.size())
    return bounds.empty() ? "accuracy_chars_all" : fmt::format("accuracy_chars_gt_{}", bounds.back());
  if (i == 0) return fmt::format("accuracy_chars_le_{}", bounds[0]);
  return fmt::format("accuracy_chars_{}_{}", bounds[i - 1] + 1, bounds[i]);
}

TextClassificationReport TextClassificationTask::evaluate_encoded(const EncodedTexts& texts) {
  const auto num_classes = static_cast<int64_t>(classes().size());
  classifier_.model().module->eval();
  torch::NoGradGuard no_grad;
  auto options = options_.batching();
  options.shuffle(false);
  auto confusion = torch::zeros({num_classes * num_classes}, torch::kInt64);
  const auto& bounds = options_.length_buckets();
  std::vector<int64_t> bucket_total(bounds.size() + 1, 0), bucket_correct(bounds.size() + 1, 0);
  double total_loss = 0.0;
  int64_t top5 = 0, done = 0;
  common::ProgressBar bar("evaluating", static_cast<int64_t>(texts.labels.size()), "text");
  for (const auto& rows : data::make_token_batches(lengths(texts), 0, options)) {
    bar.update(done += static_cast<int64_t>(rows.size()));
    auto batch = collate(texts, rows);
    auto input = batch.input.to(device_);
    auto logits = classifier_.model().forward(input.tokens, input.mask);  // [B, classes]
    total_loss += criterion_(logits, batch.labels.to(device_)).item<double>();
    auto predicted = logits.argmax(-1).to(torch::kCPU);
    const auto& labels = batch.labels;
    count_predictions(confusion, labels, predicted, num_classes);
    top5 += count_top_k(logits, labels, 5);
    const auto* p = predicted.data_ptr<int64_t>();
    for (size_t b = 0; b < rows.size(); ++b) {
      const auto row = static_cast<size_t>(rows[b]);
      const auto bucket = bucket_of(texts.chars[row]);
      ++bucket_total[bucket];
      bucket_correct[bucket] += p[b] == texts.labels[row];
    }
  }
  bar.finish();
  TextClassificationReport report;
  report.overall = ClassificationReport::from_confusion(confusion.view({num_classes, num_classes}), total_loss);
  if (num_classes > 5) {
    report.overall.top5_accuracy =
        static_cast<double>(top5) / static_cast<double>(std::max<int64_t>(report.overall.examples, 1));
  }
  for (size_t i = 0; i <= bounds.size(); ++i) {
    LengthBucketAccuracy bucket;
    if (bounds.empty()) {
      bucket.name = "all";
    } else if (i == 0) {
      bucket.name = fmt::format("<={}", bounds[0]);
    } else if (i == bounds.size()) {
      bucket.name = fmt::format(">{}", bounds.back());
    } else {
      bucket.name = fmt::format("{}-{}", bounds[i - 1] + 1, bounds[i]);
    }
    bucket.examples = bucket_total[i];
    bucket.accuracy = bucket_total[i] == 0
                          ? std::numeric_limits<double>::quiet_NaN()
                          : static_cast<double>(bucket_correct[i]) / static_cast<double>(bucket_total[i]);
    report.by_length.push_back(bucket);
  }
  return report;
}

TextClassificationReport TextClassificationTask::evaluate_on(const std::vector<data::LabeledText>& examples) {
  return evaluate_encoded(encode(examples, "evaluation"));
}

Metrics TextClassificationTask::evaluate() {
  last_report_ = evaluate_encoded(valid_);
  Metrics metrics = {{"loss", last_report_.overall.loss}, {"accuracy", last_report_.overall.accuracy}};
  if (last_report_.overall.top5_accuracy) metrics["top5_accuracy"] = *last_report_.overall.top5_accuracy;
  for (size_t i = 0; i < last_report_.by_length.size(); ++i) {
    if (last_report_.by_length[i].examples > 0) metrics[bucket_metric(i)] = last_report_.by_length[i].accuracy;
  }
  return metrics;
}

std::string TextClassificationTask::sample() {
  if (!last_report_.overall.confusion.defined()) return "";
  return fmt::format("{} split:\n{}\n{}", options_.valid_name(), last_report_.overall.table(classes()),
                     last_report_.by_length_line());
}

void TextClassificationTask::write_report(const std::string& out_dir) {
  if (!last_report_.overall.confusion.defined() || out_dir.empty()) return;
  write_confusion_csv((std::filesystem::path(out_dir) / "confusion_matrix.csv").string(), last_report_.overall,
                      classes());
}

}  // namespace torchzoo::train
