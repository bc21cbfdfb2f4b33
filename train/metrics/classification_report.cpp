#include "torchzoo/train/metrics/classification_report.h"

#include <algorithm>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"

namespace torchzoo::train {

std::string top5_text(const ClassificationReport& report) {
  return report.top5_accuracy ? fmt::format(" | top-5 accuracy {:.4f}", *report.top5_accuracy) : "";
}

int64_t count_top_k(const torch::Tensor& logits, const torch::Tensor& labels, int64_t k) {
  TORCHZOO_CHECK(logits.dim() == 2 && labels.dim() == 1 && labels.size(0) == logits.size(0) && k >= 1,
                 "count_top_k: expected logits [N, classes], labels [N] and k >= 1, got {}, {} and {}",
                 detail::shape_str(logits.sizes()), detail::shape_str(labels.sizes()), k);
  const auto top = std::get<1>(logits.topk(std::min(k, logits.size(1)), -1));  // [N, k]
  return top.eq(labels.to(top.device()).unsqueeze(1)).any(1).sum().item<int64_t>();
}

ClassificationReport ClassificationReport::from_confusion(torch::Tensor confusion, double total_loss) {
  TORCHZOO_CHECK(
      confusion.dim() == 2 && confusion.size(0) == confusion.size(1) && confusion.scalar_type() == torch::kInt64,
      "ClassificationReport: expected an int64 confusion matrix [classes, classes], got {}",
      detail::shape_str(confusion.sizes()));
  ClassificationReport report;
  report.confusion = std::move(confusion);
  report.examples = report.confusion.sum().item<int64_t>();
  const auto correct = report.confusion.diagonal().sum().item<int64_t>();
  const auto n = static_cast<double>(std::max<int64_t>(report.examples, 1));
  report.loss = total_loss / n;
  report.accuracy = static_cast<double>(correct) / n;
  // Correct over total per true class; 0 / 0 gives NaN for a class without examples.
  auto per_class = report.confusion.diagonal().to(torch::kDouble) / report.confusion.sum(1).to(torch::kDouble);
  report.per_class.assign(per_class.data_ptr<double>(), per_class.data_ptr<double>() + per_class.size(0));
  return report;
}

std::string ClassificationReport::table(const std::vector<std::string>& classes) const {
  const auto n = static_cast<int64_t>(classes.size());
  size_t width = 5;
  for (const auto& name : classes) width = std::max(width, name.size());
  std::string text = fmt::format("confusion matrix (rows: true class, columns: predicted)\n{:>{}}", "", width);
  for (int64_t j = 0; j < n; ++j) text += fmt::format(" {:>6}", j);
  text += fmt::format(" | {:>8}\n", "accuracy");
  const auto* counts = confusion.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    text += fmt::format("{:<{}}", fmt::format("{} {}", i, classes[static_cast<size_t>(i)]), width + 3);
    for (int64_t j = 0; j < n; ++j) text += fmt::format(" {:>6}", counts[i * n + j]);
    text += fmt::format(" | {:>8.4f}\n", per_class[static_cast<size_t>(i)]);
  }
  return text + fmt::format("top-1 accuracy {:.4f} | loss {:.4f}", accuracy, loss);
}

std::string ClassificationReport::csv(const std::vector<std::string>& classes) const {
  const auto n = static_cast<int64_t>(classes.size());
  std::string text = "true\\predicted";
  for (const auto& name : classes) text += "," + name;
  text += ",accuracy\n";
  const auto* counts = confusion.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    text += classes[static_cast<size_t>(i)];
    for (int64_t j = 0; j < n; ++j) text += fmt::format(",{}", counts[i * n + j]);
    text += fmt::format(",{:.6f}\n", per_class[static_cast<size_t>(i)]);
  }
  return text;
}

void count_predictions(torch::Tensor& confusion, const torch::Tensor& labels, const torch::Tensor& predicted,
                       int64_t num_classes) {
  confusion.index_add_(0, labels * num_classes + predicted, torch::ones_like(labels));
}

void write_confusion_csv(const std::string& path, const ClassificationReport& report,
                         const std::vector<std::string>& classes) {
  common::write_file_atomically(path, report.csv(classes), "confusion matrix");
}

}  // namespace torchzoo::train
