#pragma once
// A distributed run on PyTorch's own runtime, c10d: the launcher's environment
// (torchrun, srun, mpirun or a user sets RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT), a rendezvous through a c10d TCPStore served by
// rank 0 (or by torchrun's agent, TORCHELASTIC_USE_AGENT_STORE), and a process
// group: Gloo for CPU tensors, NCCL for CUDA ones when LibTorch was built with it.
//
// The collectives the training loop needs beside the gradients' (those are
// c10d's Reducer's, train/data_parallel.h) are here: broadcasts from rank 0,
// sums and maxima of small tensors, gathers of per-rank state. Each waits at
// most `timeout`; a peer that died or stopped answering turns into a
// DistributedError that names this rank, never a hang.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <c10/util/intrusive_ptr.h>
#include <torch/arg.h>
#include <torch/types.h>

namespace c10d {
class ProcessGroup;
class Store;
}  // namespace c10d

namespace torchzoo::train {

/// A collective, the rendezvous or the environment failed; what() names the rank and the cause.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// This process's place in the run, as the launcher's environment gives it.
struct DistributedEnv {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;    ///< rank within this machine: picks the CUDA device
  std::string master_addr;   ///< where rank 0 (or torchrun's agent) serves the TCPStore
  int64_t master_port = 0;
  bool agent_store = false;  ///< TORCHELASTIC_USE_AGENT_STORE=True: the store is served already
};

/// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT through `getenv`. None of RANK
/// and WORLD_SIZE set: nullopt (one process, as without a launcher). Otherwise every variable must
/// be present and valid (LOCAL_RANK defaults to RANK); errors name the variable and its value.
std::optional<DistributedEnv> read_distributed_env(
    const std::function<const char*(const char*)>& getenv = [](const char* name) { return std::getenv(name); });

/// Options of ProcessGroup::connect: the backend and the timeouts.
struct DistributedOptions {
  /// "auto" (NCCL for CUDA devices when built with it, else Gloo), "gloo" or "nccl".
  TORCH_ARG(std::string, backend) = "auto";
  /// Longest wait of one collective: a peer silent for this long is taken for dead (PyTorch's default, 30 min).
  TORCH_ARG(std::chrono::milliseconds, timeout) = std::chrono::minutes(30);
  /// Longest wait for all ranks to reach the rendezvous (TCPStore's default, 5 min).
  TORCH_ARG(std::chrono::milliseconds, init_timeout) = std::chrono::minutes(5);
};

/// The process group of a distributed run. Example (each process):
///   auto env = read_distributed_env();
///   if (env) auto group = ProcessGroup::connect(*env, DistributedOptions(), torch::kCPU);
class ProcessGroup {
 public:
  /// Rendezvous with the other ranks and builds the group for tensors on `device`.
  static std::shared_ptr<ProcessGroup> connect(const DistributedEnv& env, const DistributedOptions& options,
                                               torch::Device device);

  int64_t rank() const { return env_.rank; }
  int64_t world_size() const { return env_.world_size; }
  const DistributedEnv& env() const { return env_; }
  const std::string& backend() const { return backend_; }
  torch::Device device() const { return device_; }
  /// c10d's group, for c10d::Reducer.
  c10::intrusive_ptr<c10d::ProcessGroup> c10d_group() const;
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  /// Copies rank `root`'s tensors into everyone's (same shapes and dtypes on every rank).
  void broadcast(std::vector<torch::Tensor> tensors, int64_t root = 0);
  /// Sums `tensor` over the ranks, in place.
  void all_reduce_sum(torch::Tensor& tensor);
  /// The largest of the ranks' values, in place.
  void all_reduce_max(torch::Tensor& tensor);
  /// Every rank's `tensor` (same shape everywhere), rank order.
  std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor);
  /// Rank `root`'s text, on every rank.
  std::string broadcast_text(const std::string& text, int64_t root = 0);
  /// Waits until every rank got here.
  void barrier();

  /// Runs `fn`, turning c10d's and Gloo's errors into a DistributedError that says which rank and what it was doing.
  template <typename Fn>
  auto guarded(const std::string& what, Fn&& fn) -> decltype(fn());

  /// The text of an error thrown by `what` on this rank.
  std::string failure(const std::string& what, const std::string& cause) const;

 private:
  ProcessGroup(DistributedEnv env, torch::Device device);

  DistributedEnv env_;
  torch::Device device_;
  std::string backend_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
};

/// The seed of rank `rank`'s dropout stream: `seed` itself on rank 0, so that one process trains as
/// before, a mix of both elsewhere.
uint64_t rank_seed(uint64_t seed, int64_t rank);

template <typename Fn>
auto ProcessGroup::guarded(const std::string& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const DistributedError&) {
    throw;
  } catch (const c10::Error& e) {  // c10d's errors (c10::DistError among them)
    throw DistributedError(failure(what, e.what_without_backtrace()));
  } catch (const std::exception& e) {  // Gloo's transport errors (gloo::IoException) come through bare
    throw DistributedError(failure(what, e.what()));
  }
}

}  // namespace torchzoo::train
