#include "torchzoo/train/distributed.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <map>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef TORCHZOO_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "torchzoo/common/format.h"

namespace torchzoo::train {
namespace {

/// `name`'s value as an integer in [lo, hi]; errors name the variable.
int64_t read_integer(const char* name, const char* text, int64_t lo, int64_t hi) {
  const std::string value(text);
  size_t used = 0;
  int64_t number = 0;
  try {
    number = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || number < lo || number > hi) {
    throw DistributedError(fmt::format("environment: {}='{}': expected an integer in [{}, {}]", name, value, lo, hi));
  }
  return number;
}

/// The local address this machine reaches `host` from: the one the other ranks can reach this one at.
/// A UDP socket "connected" to the host sends nothing; the kernel only picks the route.
std::optional<std::string> local_address_towards(const std::string& host, int64_t port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  std::optional<std::string> address;
  const int fd = socket(found->ai_family, found->ai_socktype, 0);
  if (fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
    sockaddr_in local{};
    socklen_t length = sizeof(local);
    char text[INET_ADDRSTRLEN] = {};
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0 &&
        inet_ntop(AF_INET, &local.sin_addr, text, sizeof(text)) != nullptr) {
      address = text;
    }
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  return address;
}

/// Gloo's transport devices: GLOO_SOCKET_IFNAME's interfaces when set (PyTorch reads the same
/// variable), else the address that routes to MASTER_ADDR.
std::vector<std::shared_ptr<::gloo::transport::Device>> gloo_devices(const DistributedEnv& env) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  if (const char* names = std::getenv("GLOO_SOCKET_IFNAME"); names != nullptr && *names != '\0') {
    std::string list(names);
    for (size_t start = 0; start <= list.size();) {
      const size_t comma = std::min(list.find(',', start), list.size());
      const auto name = list.substr(start, comma - start);
      if (!name.empty()) devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
      start = comma + 1;
    }
    return devices;
  }
  const auto address = local_address_towards(env.master_addr, env.master_port);
  if (!address) {
    throw DistributedError(fmt::format("MASTER_ADDR={}: cannot resolve it to an IPv4 address", env.master_addr));
  }
  devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(*address));
  return devices;
}

std::string choose_backend(const std::string& asked, torch::Device device) {
#ifdef TORCHZOO_WITH_NCCL
  constexpr bool has_nccl = true;
#else
  constexpr bool has_nccl = false;
#endif
  if (asked == "gloo") return "gloo";
  if (asked == "nccl") {
    if (!has_nccl) {
      throw DistributedError(
          "train.distributed.backend: nccl asked for, but this LibTorch was built without NCCL (a CPU build); use "
          "gloo");
    }
    if (!device.is_cuda()) {
      throw DistributedError(fmt::format("train.distributed.backend: nccl needs a CUDA device, training is on {}",
                                         device.str()));
    }
    return "nccl";
  }
  if (asked != "auto") {
    throw DistributedError(fmt::format("train.distributed.backend: expected auto, gloo or nccl, got '{}'", asked));
  }
  return device.is_cuda() && has_nccl ? "nccl" : "gloo";
}

}  // namespace

std::optional<DistributedEnv> read_distributed_env(const std::function<const char*(const char*)>& getenv) {
  const char* rank = getenv("RANK");
  const char* world = getenv("WORLD_SIZE");
  if (rank == nullptr && world == nullptr) return std::nullopt;
  if (world == nullptr) throw DistributedError("environment: RANK is set but WORLD_SIZE is not; set both, or neither");
  if (rank == nullptr) throw DistributedError("environment: WORLD_SIZE is set but RANK is not; set both, or neither");
  DistributedEnv env;
  env.world_size = read_integer("WORLD_SIZE", world, 1, 1 << 20);
  env.rank = read_integer("RANK", rank, 0, env.world_size - 1);
  const char* local = getenv("LOCAL_RANK");
  env.local_rank = local == nullptr ? env.rank : read_integer("LOCAL_RANK", local, 0, env.world_size - 1);
  const char* addr = getenv("MASTER_ADDR");
  const char* port = getenv("MASTER_PORT");
  if (addr == nullptr || *addr == '\0') {
    throw DistributedError("environment: MASTER_ADDR is not set; it names the host of rank 0 (e.g. 127.0.0.1)");
  }
  if (port == nullptr) {
    throw DistributedError("environment: MASTER_PORT is not set; it is a free TCP port on rank 0's host");
  }
  env.master_addr = addr;
  env.master_port = read_integer("MASTER_PORT", port, 1, 65535);
  const char* agent = getenv("TORCHELASTIC_USE_AGENT_STORE");
  env.agent_store = agent != nullptr && std::string(agent) == "True";
  return env;
}

uint64_t rank_seed(uint64_t seed, int64_t rank) {
  if (rank == 0) return seed;
  uint64_t x = seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(rank));  // splitmix64 of the pair
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return (x ^ (x >> 31)) & static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

ProcessGroup::ProcessGroup(DistributedEnv env, torch::Device device) : env_(std::move(env)), device_(device) {}

ProcessGroup::~ProcessGroup() = default;

c10::intrusive_ptr<c10d::ProcessGroup> ProcessGroup::c10d_group() const { return group_; }

std::string ProcessGroup::failure(const std::string& what, const std::string& cause) const {
  return fmt::format(
      "distributed training: rank {} of {}: {} failed: {}\n(another process may have died or stopped answering; "
      "its own log says why)",
      env_.rank, env_.world_size, what, cause);
}

std::shared_ptr<ProcessGroup> ProcessGroup::connect(const DistributedEnv& env, const DistributedOptions& options,
                                                    torch::Device device) {
  std::shared_ptr<ProcessGroup> group(new ProcessGroup(env, device));
  group->backend_ = choose_backend(options.backend(), device);
  const auto where = fmt::format("{}:{}", env.master_addr, env.master_port);
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(env.master_port);
  store_options.isServer = env.rank == 0 && !env.agent_store;
  store_options.numWorkers = static_cast<size_t>(env.world_size);
  store_options.timeout = options.init_timeout();
  try {
    auto store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    group->store_ = c10::make_intrusive<c10d::PrefixStore>("torchzoo", store);
  } catch (const c10::Error& e) {
    const std::string cause = e.what_without_backtrace();
    if (store_options.isServer && cause.find("EADDRINUSE") != std::string::npos) {
      throw DistributedError(fmt::format(
          "rendezvous: rank 0 cannot serve the store on MASTER_PORT={}: the port is in use (another run, or "
          "another program, holds it); choose a free MASTER_PORT",
          env.master_port));
    }
    throw DistributedError(fmt::format(
        "rendezvous: rank {} of {} could not {} the store at MASTER_ADDR:MASTER_PORT={} within {} s "
        "(train.distributed.init_timeout_s): {}",
        env.rank, env.world_size, store_options.isServer ? "serve, or be joined at," : "reach", where,
        std::chrono::duration<double>(options.init_timeout()).count(), cause));
  }

  try {
    group->group_ = c10::make_intrusive<c10d::ProcessGroup>(group->store_, static_cast<int>(env.rank),
                                                            static_cast<int>(env.world_size));
    if (group->backend_ == "gloo") {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout());
      gloo_options->devices = gloo_devices(env);
      auto backend = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store_, static_cast<int>(env.rank),
                                                                 static_cast<int>(env.world_size), gloo_options);
      group->group_->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, backend);
      group->group_->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::GLOO, backend);
      group->group_->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
    } else {
#ifdef TORCHZOO_WITH_NCCL
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = options.timeout();
      auto backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(group->store_, static_cast<int>(env.rank),
                                                                 static_cast<int>(env.world_size), nccl_options);
      group->group_->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL, backend);
      group->group_->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
#endif
    }
  } catch (const DistributedError&) {
    throw;
  } catch (const c10::Error& e) {
    throw DistributedError(group->failure(
        fmt::format("connecting the {} process group (through the store at {})", group->backend_, where),
        e.what_without_backtrace()));
  }
  return group;
}

void ProcessGroup::broadcast(std::vector<torch::Tensor> tensors, int64_t root) {
  // c10d's broadcast takes one tensor per device: the tensors go flat, one buffer per dtype.
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& tensor : tensors) by_dtype[tensor.scalar_type()].push_back(tensor);
  torch::NoGradGuard no_grad;
  for (auto& [dtype, group] : by_dtype) {
    std::vector<torch::Tensor> flat;
    for (const auto& tensor : group) flat.push_back(tensor.reshape(-1));
    std::vector<torch::Tensor> buffer{torch::cat(flat).to(device_)};
    guarded("a broadcast", [&] {
      c10d::BroadcastOptions options;
      options.rootRank = root;
      group_->broadcast(buffer, options)->wait();
    });
    int64_t offset = 0;
    for (auto& tensor : group) {
      tensor.copy_(buffer[0].narrow(0, offset, tensor.numel()).view(tensor.sizes()));
      offset += tensor.numel();
    }
  }
}

void ProcessGroup::all_reduce_sum(torch::Tensor& tensor) {
  guarded("an all-reduce (sum)", [&] {
    std::vector<torch::Tensor> tensors{tensor};
    group_->allreduce(tensors, c10d::AllreduceOptions{c10d::ReduceOp::SUM})->wait();
  });
}

void ProcessGroup::all_reduce_max(torch::Tensor& tensor) {
  guarded("an all-reduce (max)", [&] {
    std::vector<torch::Tensor> tensors{tensor};
    group_->allreduce(tensors, c10d::AllreduceOptions{c10d::ReduceOp::MAX})->wait();
  });
}

std::vector<torch::Tensor> ProcessGroup::all_gather(const torch::Tensor& tensor) {
  return guarded("an all-gather", [&] {
    std::vector<torch::Tensor> input{tensor.contiguous()};
    std::vector<std::vector<torch::Tensor>> output(1);
    for (int64_t r = 0; r < world_size(); ++r) output[0].push_back(torch::empty_like(input[0]));
    group_->allgather(output, input)->wait();
    return output[0];
  });
}

std::string ProcessGroup::broadcast_text(const std::string& text, int64_t root) {
  auto on = torch::TensorOptions().dtype(torch::kInt64).device(device_);
  auto length = torch::tensor({static_cast<int64_t>(text.size())}, torch::kInt64).to(device_);
  broadcast({length}, root);
  const auto size = length.item<int64_t>();
  auto bytes = torch::empty({size}, on.dtype(torch::kUInt8));
  if (rank() == root && size > 0) {
    bytes.copy_(torch::from_blob(const_cast<char*>(text.data()), {size}, torch::kUInt8));
  }
  broadcast({bytes}, root);
  auto host = bytes.to(torch::kCPU);
  return std::string(reinterpret_cast<const char*>(host.data_ptr<uint8_t>()), static_cast<size_t>(size));
}

void ProcessGroup::barrier() {
  guarded("a barrier", [&] { group_->barrier()->wait(); });
}

}  // namespace torchzoo::train
