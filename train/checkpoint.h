#pragma once
// Training checkpoints: model parameters and buffers, optimizer state, the
// optimizer step and epoch counters, the effective config (YAML text), the CPU
// and CUDA random-number states and any further parts of the training state
// (the loss scaler, the weight average), in one torch::serialize archive. Written to a
// temporary file in the same folder and renamed into place, so a crash never
// leaves a half-written checkpoint under the final name.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace torchzoo::train {

/// The training state a checkpoint holds besides the weights and the optimizer: counters, the config
/// and the bookkeeping of best checkpoints, early stopping and the running losses.
struct CheckpointState {
  int64_t step = 0;              ///< optimizer steps taken
  int64_t epoch = 0;             ///< epochs completed
  std::string config;            ///< the effective YAML config the model was built from
  std::optional<double> best;    ///< best validation value of the kept metric so far, if one is kept
  int64_t best_epoch = 0;        ///< epoch (1-based) that reached `best`
  int64_t batch = 0;             ///< batches of the next epoch already trained on (evaluation within an epoch)
  int64_t best_step = 0;         ///< optimizer step that reached `best`
  int64_t evals_since_best = 0;  ///< evaluations since `best` (early stopping)
  double epoch_loss = 0.0;       ///< summed training loss of the epoch so far (resuming within an epoch)
  int64_t epoch_items = 0;       ///< items that loss is over
  double window_loss = 0.0;      ///< the same since the last progress line
  int64_t window_items = 0;
  std::string resolved_config;   ///< config with every default written in ("" in older checkpoints)
  bool resumable = false;        ///< holds optimizer state (a training checkpoint, not weights only); read only
};

/// Training state beside the optimizer's, stored under `name` (GradScaler, ModelEma).
struct CheckpointPart {
  std::string name;
  std::function<void(torch::serialize::OutputArchive&)> save;
  std::function<void(torch::serialize::InputArchive&)> load;
  /// An optional part may be absent from a checkpoint (one written before it existed, or by a run
  /// without it): then load_absent is called instead of load.
  bool optional = false;
  std::function<void()> load_absent = [] {};
};

/// The state of the default random generator of `device` (taken under its lock), as
/// torch.get_rng_state() and torch.cuda.get_rng_state(device).
torch::Tensor generator_state(c10::Device device);
/// Sets it back.
void set_generator_state(c10::Device device, const torch::Tensor& state);

/// Saves atomically. `optimizer` may be null (an export of weights only); `parts` are saved with
/// the optimizer state, so only when it is given.
void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointState& state, const std::vector<CheckpointPart>& parts = {});

/// Reads the counters and config without touching a model (to build the model first).
CheckpointState read_checkpoint_state(const std::string& path);

/// Loads the weights into `model` (names and shapes must match) and, when
/// `optimizer` is given, its state, the random-number states and each of `parts`
/// (resuming; a part the checkpoint lacks is an error naming it). CUDA generator
/// states are restored for the devices this machine has. Tensors are read onto
/// `device`, which must be where `model` lives.
CheckpointState load_checkpoint(const std::string& path, torch::nn::Module& model,
                                torch::optim::Optimizer* optimizer = nullptr, torch::Device device = torch::kCPU,
                                const std::vector<CheckpointPart>& parts = {});

}  // namespace torchzoo::train
