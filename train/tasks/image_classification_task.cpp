#include "torchzoo/train/tasks/image_classification_task.h"

#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>

#include "torchzoo/common/check.h"
#include "torchzoo/common/progress_bar.h"

namespace torchzoo::train {
namespace {

/// A generator for (seed, a, b): every epoch and batch has its own stream.
at::Generator seeded(uint64_t seed, int64_t a, int64_t b = 0) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>();
  generator.set_current_seed(seed * 1000003ULL + static_cast<uint64_t>(a) * 10007ULL + static_cast<uint64_t>(b));
  return generator;
}

}  // namespace

ImageClassificationTask::ImageClassificationTask(ImageClassifier model, data::ImageDataset train,
                                                 data::ImageDataset valid, data::ImageDataset test, TokenLoss criterion,
                                                 ImageClassificationOptions options)
    : model_(std::move(model)),
      train_(std::move(train)),
      valid_(std::move(valid)),
      test_(std::move(test)),
      criterion_(std::move(criterion)),
      options_(std::move(options)) {
  TORCHZOO_CHECK(model_.module != nullptr && model_.forward != nullptr, "ImageClassificationTask: a model is required");
  TORCHZOO_CHECK(criterion_ != nullptr, "ImageClassificationTask: a loss is required");
  TORCHZOO_CHECK(options_.batch_size() > 0 && options_.eval_batch_size() > 0,
                 "ImageClassificationTask: batch sizes must be positive, got {} and {}", options_.batch_size(),
                 options_.eval_batch_size());
  TORCHZOO_CHECK(train_.size() >= options_.batch_size(),
                 "ImageClassificationTask: {} training images are fewer than one batch of {}", train_.size(),
                 options_.batch_size());
  TORCHZOO_CHECK(valid_.size() > 0, "ImageClassificationTask: the {} split is empty", options_.valid_name());
  TORCHZOO_CHECK(train_.classes == valid_.classes, "ImageClassificationTask: the splits have different classes");
}

void ImageClassificationTask::to(torch::Device device) {
  device_ = device;
  model_.module->to(device);
}

int64_t ImageClassificationTask::batches_per_epoch() const {
  return train_.size() / options_.batch_size();  // the last partial batch is dropped, as drop_last=True
}

ImageClassificationTask::CpuBatch ImageClassificationTask::make_train_batch(int64_t epoch, int64_t index,
                                                                            const torch::Tensor& order) const {
  const auto bs = options_.batch_size();
  auto ids = order.slice(0, index * bs, (index + 1) * bs);  // [B]
  auto images = train_.images.index_select(0, ids);         // uint8 [B, C, H, W]
  return CpuBatch{data::transform_images(images, options_.transform(), seeded(options_.seed(), epoch + 1, index + 1)),
                  train_.labels.index_select(0, ids)};
}

void ImageClassificationTask::start_epoch(int64_t epoch, int64_t first_index) {
  batches_.reset();  // joins the previous epoch's workers
  auto order_generator = seeded(options_.seed(), epoch + 1);
  auto order = torch::randperm(train_.size(), order_generator, torch::kInt64);
  batches_ = std::make_unique<data::Prefetcher<CpuBatch>>(
      [this, epoch, order](int64_t index) {
        auto batch = make_train_batch(epoch, index, order);
        data::pin_memory_for(device_, {&batch.images, &batch.labels});
        return batch;
      },
      batches_per_epoch(),
      options_.workers(), options_.prefetch(), first_index);
  epoch_ = epoch;
}

BatchLoss ImageClassificationTask::train_loss(int64_t epoch, int64_t index) {
  if (epoch != epoch_ || !batches_ || batches_->position() != index) start_epoch(epoch, index);
  auto batch = batches_->next();
  auto images = batch.images.to(device_, /*non_blocking=*/true);
  auto labels = batch.labels.to(device_, /*non_blocking=*/true);
  auto logits = model_.forward(images);  // [B, classes]
  const auto n = labels.size(0);
  return BatchLoss{criterion_(logits, labels), n, n};
}

ClassificationReport ImageClassificationTask::evaluate_on(const data::ImageDataset& dataset) {
  const auto num_classes = static_cast<int64_t>(dataset.classes.size());
  model_.module->eval();
  torch::NoGradGuard no_grad;
  double total_loss = 0.0;
  int64_t top5 = 0;
  auto confusion = torch::zeros({num_classes * num_classes}, torch::kInt64);
  common::ProgressBar bar("evaluating", dataset.size(), "img");
  for (int64_t begin = 0; begin < dataset.size(); begin += options_.eval_batch_size()) {
    const auto end = std::min(dataset.size(), begin + options_.eval_batch_size());
    auto images = data::transform_images(dataset.images.slice(0, begin, end), options_.transform()).to(device_);
    auto labels = dataset.labels.slice(0, begin, end);
    auto logits = model_.forward(images);  // [B, classes]
    total_loss += criterion_(logits, labels.to(device_)).item<double>();
    count_predictions(confusion, labels, logits.argmax(-1).to(torch::kCPU), num_classes);
    top5 += count_top_k(logits, labels, 5);
    bar.update(end);
  }
  bar.finish();
  auto report = ClassificationReport::from_confusion(confusion.view({num_classes, num_classes}), total_loss);
  if (num_classes > 5)
    report.top5_accuracy = static_cast<double>(top5) / static_cast<double>(std::max<int64_t>(report.examples, 1));
  return report;
}

Metrics ImageClassificationTask::evaluate() {
  last_report_ = evaluate_on(valid_);
  Metrics metrics = {{"loss", last_report_.loss}, {"accuracy", last_report_.accuracy}};
  if (last_report_.top5_accuracy) metrics["top5_accuracy"] = *last_report_.top5_accuracy;
  return metrics;
}

std::string ImageClassificationTask::sample() {
  if (!last_report_.confusion.defined()) return "";
  return fmt::format("{} split:\n{}", options_.valid_name(), last_report_.table(classes()));
}

void ImageClassificationTask::write_report(const std::string& out_dir) {
  if (!last_report_.confusion.defined() || out_dir.empty()) return;
  write_confusion_csv((std::filesystem::path(out_dir) / "confusion_matrix.csv").string(), last_report_, classes());
}

torch::Tensor ImageClassificationTask::predict(const torch::Tensor& images) {
  model_.module->eval();
  torch::NoGradGuard no_grad;
  auto x = data::transform_images(images, options_.transform()).to(device_);
  return model_.forward(x).softmax(-1).to(torch::kCPU);  // [B, classes]
}

}  // namespace torchzoo::train
