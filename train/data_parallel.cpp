#include "torchzoo/train/data_parallel.h"

#include <tuple>

#include <torch/csrc/distributed/c10d/logger.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/shared_parameters.h"

namespace torchzoo::train {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

DataParallel::DataParallel(torch::nn::Module& module, std::shared_ptr<ProcessGroup> group,
                           DataParallelOptions options)
    : module_(module), group_(std::move(group)), options_(options) {
  TORCHZOO_CHECK(group_ != nullptr, "DataParallel: a process group is required");
  TORCHZOO_CHECK(options_.bucket_cap_mb() > 0 && options_.first_bucket_cap_mb() > 0,
                 "DataParallel: bucket sizes must be positive, got {} and {} MiB", options_.bucket_cap_mb(),
                 options_.first_bucket_cap_mb());
  broadcast_states();
  // Shared (tied) parameters once: the Reducer hooks each tensor's gradient accumulator, and would
  // otherwise count a tied weight's gradient once per name.
  std::unordered_map<size_t, std::string> names;
  for (const auto& [name, parameter] : layers::unique_named_parameters(module_)) {
    if (!parameter.requires_grad()) continue;
    names[parameters_.size()] = name;
    parameters_.push_back(parameter);
  }
  TORCHZOO_CHECK(!parameters_.empty(), "DataParallel: the model has no parameters to train");
  const auto bucket_bytes = static_cast<int64_t>(options_.bucket_cap_mb() * kMiB);
  const auto first_bucket_bytes = static_cast<int64_t>(options_.first_bucket_cap_mb() * kMiB);
  const std::vector<bool> sparse(parameters_.size(), false);
  // As DDP: buckets in reverse parameter order, the first one small so communication starts early.
  auto buckets = group_->guarded("assigning gradient buckets", [&] {
    return std::get<0>(c10d::compute_bucket_assignment_by_size(
        parameters_, {static_cast<size_t>(first_bucket_bytes), static_cast<size_t>(bucket_bytes)}, sparse));
  });
  std::reverse(buckets.begin(), buckets.end());
  group_->guarded("creating the gradient reducer", [&] {
    reducer_ = std::make_shared<c10d::Reducer>(parameters_, buckets, group_->c10d_group(), sparse, bucket_bytes,
                                               options_.find_unused_parameters(), /*gradient_as_bucket_view=*/false,
                                               names, first_bucket_bytes, /*skip_all_reduce_unused_params=*/false,
                                               /*use_python_reducer=*/false, std::vector<int64_t>{});
    logger_ = std::make_shared<c10d::Logger>(reducer_);
    reducer_->set_logger(logger_);
    const auto device = group_->device();
    logger_->set_construction_data_and_log("torchzoo", device.is_cuda() ? std::vector<int>{device.index()}
                                                                        : std::vector<int>{},
                                           device.is_cuda() ? device.index() : -1, /*broadcast_buffers=*/false,
                                           /*has_sync_bn=*/false, /*static_graph=*/false);
    reducer_->set_ddp_runtime_logging_sample_rate(1);  // time every step
  });
}

DataParallel::~DataParallel() = default;

void DataParallel::broadcast_states() {
  std::vector<torch::Tensor> tensors;
  for (const auto& [name, parameter] : layers::unique_named_parameters(module_)) tensors.push_back(parameter);
  for (const auto& buffer : module_.buffers()) tensors.push_back(buffer);
  torch::NoGradGuard no_grad;
  group_->broadcast(tensors, 0);
}

void DataParallel::before_forward(bool sync) {
  sync_ = sync;
  if (!sync || !torch::GradMode::is_enabled()) return;
  group_->guarded("preparing the gradient all-reduce", [&] {
    logger_->set_runtime_stats_and_log();  // the last step's timings, as DDP's forward does
    reducer_->prepare_for_forward();
    reducer_->rebuild_buckets();  // once, after the first step: in the order gradients came
  });
}

void DataParallel::before_backward(const torch::Tensor& loss) {
  if (!sync_ || !torch::GradMode::is_enabled()) return;
  group_->guarded("preparing the gradient all-reduce", [&] {
    reducer_->prepare_for_backward(options_.find_unused_parameters() ? std::vector<torch::Tensor>{loss}
                                                                     : std::vector<torch::Tensor>{});
  });
}

DataParallelStats DataParallel::stats() const {
  DataParallelStats stats;
  auto data = logger_->get_ddp_logging_data();
  const auto value = [&](const char* key) {
    auto it = data.ints_map.find(key);
    return it == data.ints_map.end() ? 0 : it->second;
  };
  constexpr double kNsPerUs = 1000.0;
  stats.sampled_steps = value("iteration");
  stats.backward_compute_us = static_cast<double>(value("avg_backward_compute_time")) / kNsPerUs;
  stats.backward_comm_us = static_cast<double>(value("avg_backward_comm_time")) / kNsPerUs;
  stats.overlap_us = static_cast<double>(value("avg_backward_compute_comm_overlap_time")) / kNsPerUs;
  stats.buckets = static_cast<int64_t>(reducer_->get_grad_buckets().size());
  for (const auto& parameter : parameters_) stats.gradient_bytes += parameter.numel() * parameter.element_size();
  return stats;
}

}  // namespace torchzoo::train
