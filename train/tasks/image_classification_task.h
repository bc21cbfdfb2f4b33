#pragma once
// Image classification: a model mapping normalised images [B, C, H, W] to
// logits [B, classes], labelled images in memory, a loss over the logits
// (e.g. cross-entropy with label smoothing), and evaluation by top-1 accuracy,
// per-class accuracy and a confusion matrix. Training batches are drawn from
// a seeded permutation per epoch and augmented on worker threads.
#include <functional>
#include <memory>
#include <string>

#include <torch/arg.h>

#include "torchzoo/data/image_dataset.h"
#include "torchzoo/data/image_transforms.h"
#include "torchzoo/data/prefetcher.h"
#include "torchzoo/train/metrics/classification_report.h"
#include "torchzoo/train/tasks/task.h"

namespace torchzoo::train {

/// A classifier: the module (for parameters, train/eval, saving) and its forward.
struct ImageClassifier {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor& images)> forward;  ///< [B, C, H, W] -> logits [B, classes]
};

/// Options of ImageClassificationTask: batch sizes, transforms, workers and the seed.
struct ImageClassificationOptions {
  /// Images per training batch.
  TORCH_ARG(int64_t, batch_size) = 128;
  /// Images per evaluation batch.
  TORCH_ARG(int64_t, eval_batch_size) = 500;
  /// Normalisation for all splits; crop and flip for training only.
  TORCH_ARG(data::ImageTransformOptions, transform);
  /// Threads assembling training batches (0: on the training thread).
  TORCH_ARG(int64_t, workers) = 1;
  /// Batches made ahead.
  TORCH_ARG(int64_t, prefetch) = 4;
  /// Shuffling and augmentation seed.
  TORCH_ARG(uint64_t, seed) = 1;
  /// What the validation split is called in metrics and reports ("valid", or "test" when the test set is used).
  TORCH_ARG(std::string, valid_name) = "valid";
};

/// Image classification: a classifier of normalised images, labelled images in memory, a loss over
/// the logits, and evaluation by accuracy, per-class accuracy and a confusion matrix.
class ImageClassificationTask : public Task {
 public:
  /// `test` may be empty (size 0) when there is no held-out test split.
  ImageClassificationTask(ImageClassifier model, data::ImageDataset train, data::ImageDataset valid,
                          data::ImageDataset test, TokenLoss criterion, ImageClassificationOptions options);

  std::shared_ptr<torch::nn::Module> module() override { return model_.module; }
  void to(torch::Device device) override;
  int64_t batches_per_epoch() const override;
  BatchLoss train_loss(int64_t epoch, int64_t index) override;
  /// Validation loss per image and top-1 accuracy; keeps the full report.
  Metrics evaluate() override;
  std::string unit() const override { return "img"; }
  /// The last evaluation's confusion matrix and per-class accuracy.
  std::string sample() override;
  /// Writes confusion_matrix.csv (the last evaluation) into `out_dir`.
  void write_report(const std::string& out_dir) override;

  /// Loss, accuracy and confusion matrix of `dataset` (eval mode, no gradients).
  ClassificationReport evaluate_on(const data::ImageDataset& dataset);
  /// Class probabilities [B, classes] of uint8 images [B, C, H, W].
  torch::Tensor predict(const torch::Tensor& images);
  const std::vector<std::string>& classes() const { return train_.classes; }
  const data::ImageDataset& valid_set() const { return valid_; }
  const data::ImageDataset& test_set() const { return test_; }
  const ImageClassificationOptions& options() const { return options_; }

 private:
  struct CpuBatch {
    torch::Tensor images;  ///< float, transformed [B, C, H, W]
    torch::Tensor labels;  ///< int64 [B]
  };
  CpuBatch make_train_batch(int64_t epoch, int64_t index, const torch::Tensor& order) const;
  void start_epoch(int64_t epoch, int64_t first_index);

  ImageClassifier model_;
  data::ImageDataset train_;
  data::ImageDataset valid_;
  data::ImageDataset test_;
  TokenLoss criterion_;
  ImageClassificationOptions options_;
  torch::Device device_ = torch::kCPU;
  int64_t epoch_ = -1;
  std::unique_ptr<data::Prefetcher<CpuBatch>> batches_;
  ClassificationReport last_report_;
};

}  // namespace torchzoo::train
