#pragma once
// Accuracy figures of a classifier over a labelled set: loss, top-1 accuracy,
// the confusion matrix and per-class accuracy, printable as a table or CSV.
// Shared by image and text classification.
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace torchzoo::train {

/// A classifier's figures over a labelled set: loss, top-1 accuracy, the confusion matrix and
/// per-class accuracy.
struct ClassificationReport {
  double loss = 0.0;              ///< per example
  double accuracy = 0.0;          ///< top-1
  int64_t examples = 0;           ///< examples counted
  torch::Tensor confusion;        ///< int64 [classes, classes]: row = true class, column = predicted
  std::vector<double> per_class;  ///< accuracy of each true class (NaN when it has no examples)
  /// Share of examples whose class is among the five highest scores, as timm's top-5 (set by the
  /// tasks when there are more than five classes).
  std::optional<double> top5_accuracy;

  /// The report of a confusion matrix (int64 [classes, classes], row = true class) and the summed loss.
  static ClassificationReport from_confusion(torch::Tensor confusion, double total_loss);

  /// The confusion matrix and per-class accuracy as a text table with the class names.
  std::string table(const std::vector<std::string>& classes) const;
  /// The same as CSV: a header of predicted classes, then one row per true class, then accuracy.
  std::string csv(const std::vector<std::string>& classes) const;
};

/// Adds predictions to a flat confusion matrix (int64 [classes * classes], row = true class):
/// labels and predicted int64 [N] on the CPU.
void count_predictions(torch::Tensor& confusion, const torch::Tensor& labels, const torch::Tensor& predicted,
                       int64_t num_classes);

/// " | top-5 accuracy 0.9876" when the report has one, else "" (for report lines).
std::string top5_text(const ClassificationReport& report);

/// How many rows of logits [N, classes] have their label (int64 [N]) among their k highest scores
/// (ties: as torch.topk breaks them); k larger than the classes counts every row.
int64_t count_top_k(const torch::Tensor& logits, const torch::Tensor& labels, int64_t k);

/// Writes `report.csv(classes)` to `path` through a temporary file and a rename.
void write_confusion_csv(const std::string& path, const ClassificationReport& report,
                         const std::vector<std::string>& classes);

}  // namespace torchzoo::train
