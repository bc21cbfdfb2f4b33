#pragma once
// What the Trainer needs from a model family and its data: the module, the
// training batches with their loss, and an evaluation. The Trainer owns the
// loop (accumulation, clipping, the optimizer and schedule, logging and
// checkpoints); a Task owns what is specific to its family.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace torchzoo::train {

/// The loss of one training batch.
struct BatchLoss {
  torch::Tensor loss;  ///< summed over `count` items, connected to the graph
  int64_t count = 0;   ///< normaliser: the loss per item is loss / count (tokens, examples)
  int64_t units = 0;   ///< what throughput counts (tokens, images)
};

/// Named figures of an evaluation, e.g. {"loss", 2.1}, {"accuracy", 0.9}.
using Metrics = std::map<std::string, double>;

/// Summed loss of scores [N, classes] (log-probabilities or logits, as the loss expects)
/// against targets [N]; for tokens, padding contributes nothing.
using TokenLoss = std::function<torch::Tensor(const torch::Tensor& scores, const torch::Tensor& target)>;

/// What the Trainer trains: a model family's module, its training batches and their loss, and its
/// evaluation. The Trainer owns the loop; a Task owns what is specific to its family.
class Task {
 public:
  virtual ~Task() = default;
  /// The model being trained.
  virtual std::shared_ptr<torch::nn::Module> module() = 0;
  /// Moves the model to `device`; batches are then made there.
  virtual void to(torch::Device device) = 0;
  /// Training batches in one epoch.
  virtual int64_t batches_per_epoch() const = 0;
  /// Forward pass and loss of training batch `index` of epoch `epoch` (the model is in training mode).
  virtual BatchLoss train_loss(int64_t epoch, int64_t index) = 0;
  /// Validation metrics; must contain "loss". Called in eval mode without gradients.
  virtual Metrics evaluate() = 0;
  /// What train_loss counts in BatchLoss::units, for the progress line ("tok", "img").
  virtual std::string unit() const = 0;
  /// A human-readable demonstration of the trained model, printed at the end (may be empty).
  virtual std::string sample() { return ""; }
  /// Writes task-specific reports of the last evaluation into `out_dir` (e.g. a confusion matrix).
  virtual void write_report(const std::string& out_dir) {}
};

}  // namespace torchzoo::train
