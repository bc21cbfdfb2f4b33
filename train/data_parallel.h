#pragma once
// Data parallelism as PyTorch's DistributedDataParallel does it, on the same
// engine: c10d's Reducer. Every rank holds the whole model; rank 0's weights
// and buffers are broadcast when a DataParallel is made, so all ranks start
// alike. The Reducer puts the gradients in buckets (25 MiB, the first 1 MiB,
// in reverse order of the parameters: the order backward makes them) and
// hooks each parameter's gradient accumulator. When the last gradient of a
// bucket is ready its all-reduce starts, while backward goes on with the
// layers below: communication overlaps computation. At the end of backward
// the gradients hold the average over the ranks. After the first step the
// buckets are rebuilt in the order the gradients came, as in PyTorch.
//
// Gradient accumulation: a micro-batch whose backward is not the last of its
// accumulation group is not synchronised (DDP's no_sync); its gradients add up
// locally and go out with the last one's.
//
// The Reducer's own timers (c10d::Logger, the figures PyTorch's DDP logs) give
// the backward computation, the communication and how much of the latter
// overlapped the former.
#include <memory>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>

#include "torchzoo/train/distributed.h"

namespace c10d {
class Reducer;
class Logger;
}  // namespace c10d

namespace torchzoo::train {

/// Options of DataParallel: the gradient buckets, as DistributedDataParallel's.
struct DataParallelOptions {
  /// Size of a gradient bucket (MiB), as DDP's bucket_cap_mb.
  TORCH_ARG(double, bucket_cap_mb) = 25.0;
  /// Size of the first bucket, all-reduced as soon as backward begins (MiB; DDP's default 1).
  TORCH_ARG(double, first_bucket_cap_mb) = 1.0;
  /// Look for parameters that the forward pass did not use (their gradients are then taken as zero);
  /// costs a walk over the autograd graph each step.
  TORCH_ARG(bool, find_unused_parameters) = false;
};

/// The Reducer's timings, averaged over the steps it sampled (microseconds).
struct DataParallelStats {
  int64_t sampled_steps = 0;
  double backward_compute_us = 0.0;  ///< from the start of backward to its last gradient
  double backward_comm_us = 0.0;     ///< from the first bucket's all-reduce to the last's end
  double overlap_us = 0.0;           ///< the part of communication done while backward still ran
  int64_t buckets = 0;
  int64_t gradient_bytes = 0;        ///< what one step all-reduces
};

/// Data parallelism on c10d's Reducer, as PyTorch's DistributedDataParallel: rank 0's weights are
/// broadcast, and each backward averages the gradients over the ranks in buckets that overlap the
/// computation.
///
/// Example (each rank; one micro-batch per step):
///   DataParallel ddp(*model, group);
///   ddp.before_forward(/*sync=*/true);
///   auto loss = compute_loss(*model, batch);
///   ddp.before_backward(loss);
///   loss.backward();  // the gradients are now the average over the ranks
class DataParallel {
 public:
  /// Broadcasts rank 0's parameters and buffers of `module` and hooks its parameters' gradients.
  DataParallel(torch::nn::Module& module, std::shared_ptr<ProcessGroup> group,
               DataParallelOptions options = DataParallelOptions());
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  /// Call before the forward pass of each micro-batch; `sync`: its backward averages the gradients
  /// (the last micro-batch of an accumulation group).
  void before_forward(bool sync);
  /// Call after the forward pass and before `loss.backward()` of a micro-batch whose backward syncs.
  void before_backward(const torch::Tensor& loss);

  /// Copies rank 0's parameters and buffers to every rank (done by the constructor).
  void broadcast_states();
  DataParallelStats stats() const;
  ProcessGroup& group() { return *group_; }

 private:
  torch::nn::Module& module_;
  std::shared_ptr<ProcessGroup> group_;
  DataParallelOptions options_;
  std::vector<torch::Tensor> parameters_;
  std::shared_ptr<c10d::Reducer> reducer_;
  std::shared_ptr<c10d::Logger> logger_;
  bool sync_ = false;
};

}  // namespace torchzoo::train
