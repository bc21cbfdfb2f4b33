// The launcher's environment, and the collectives of ProcessGroup between two
// ranks in one process (two threads, loopback; the CLI tests run real processes).
#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <string>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <torch/torch.h>

#include "torchzoo/train/distributed.h"

using torchzoo::train::DistributedEnv;
using torchzoo::train::DistributedError;
using torchzoo::train::DistributedOptions;
using torchzoo::train::ProcessGroup;
using torchzoo::train::read_distributed_env;

namespace {

std::optional<DistributedEnv> env_of(const std::map<std::string, std::string>& variables) {
  return read_distributed_env([&](const char* name) -> const char* {
    auto it = variables.find(name);
    return it == variables.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& variables) {
  try {
    env_of(variables);
  } catch (const DistributedError& e) {
    return e.what();
  }
  return "";
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

TEST_CASE("Without RANK and WORLD_SIZE there is no distributed run") { CHECK_FALSE(env_of({}).has_value()); }

TEST_CASE("The launcher's variables are read, LOCAL_RANK defaulting to RANK") {
  auto env = env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"}});
  REQUIRE(env.has_value());
  CHECK(env->rank == 3);
  CHECK(env->world_size == 4);
  CHECK(env->local_rank == 3);
  CHECK(env->master_addr == "node0");
  CHECK(env->master_port == 29500);
  CHECK_FALSE(env->agent_store);
  env = env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"},
                {"TORCHELASTIC_USE_AGENT_STORE", "True"}});
  CHECK(env->local_rank == 0);
  CHECK(env->agent_store);
}

TEST_CASE("A bad environment names the variable and what was expected") {
  const std::map<std::string, std::string> good{
      {"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
  auto without = [&](const std::string& name) {
    auto variables = good;
    variables.erase(name);
    return variables;
  };
  auto with = [&](const std::string& name, const std::string& value) {
    auto variables = good;
    variables[name] = value;
    return variables;
  };
  CHECK_THAT(error_of(without("RANK")), Catch::Contains("WORLD_SIZE is set but RANK is not"));
  CHECK_THAT(error_of(without("WORLD_SIZE")), Catch::Contains("RANK is set but WORLD_SIZE is not"));
  CHECK_THAT(error_of(without("MASTER_ADDR")), Catch::Contains("MASTER_ADDR is not set"));
  CHECK_THAT(error_of(without("MASTER_PORT")), Catch::Contains("MASTER_PORT is not set"));
  CHECK_THAT(error_of(with("RANK", "2")), Catch::Contains("RANK='2': expected an integer in [0, 1]"));
  CHECK_THAT(error_of(with("RANK", "-1")), Catch::Contains("RANK='-1'"));
  CHECK_THAT(error_of(with("WORLD_SIZE", "two")), Catch::Contains("WORLD_SIZE='two'"));
  CHECK_THAT(error_of(with("WORLD_SIZE", "0")), Catch::Contains("WORLD_SIZE='0'"));
  CHECK_THAT(error_of(with("MASTER_PORT", "65536")), Catch::Contains("MASTER_PORT='65536'"));
  CHECK_THAT(error_of(with("MASTER_PORT", "80 ")), Catch::Contains("MASTER_PORT='80 '"));
  CHECK_THAT(error_of(with("LOCAL_RANK", "x")), Catch::Contains("LOCAL_RANK='x'"));
}

TEST_CASE("Each rank's dropout stream has a seed of its own, and rank 0 keeps the run's") {
  using torchzoo::train::rank_seed;
  CHECK(rank_seed(7, 0) == 7);
  CHECK(rank_seed(7, 1) != 7);
  CHECK(rank_seed(7, 1) != rank_seed(7, 2));
  CHECK(rank_seed(7, 1) != rank_seed(8, 1));
  CHECK(rank_seed(7, 1) == rank_seed(7, 1));
}

TEST_CASE("Two ranks broadcast, sum, take maxima and gather through Gloo") {
  const int port = free_port();
  DistributedOptions options;
  options.timeout(std::chrono::seconds(60)).init_timeout(std::chrono::seconds(60));
  // Each rank in a thread of its own: the rendezvous waits for both.
  auto rank = [&](int64_t r) {
    DistributedEnv env;
    env.rank = r;
    env.world_size = 2;
    env.local_rank = r;
    env.master_addr = "127.0.0.1";
    env.master_port = port;
    auto group = ProcessGroup::connect(env, options, torch::kCPU);
    std::map<std::string, torch::Tensor> got;
    auto weights = torch::full({2, 3}, static_cast<float>(r + 1));
    auto steps = torch::full({1}, r + 10, torch::kInt64);
    group->broadcast({weights, steps}, 0);  // two dtypes in one call
    got["weights"] = weights;
    got["steps"] = steps;
    auto sum = torch::tensor({1.0, static_cast<double>(r)}, torch::kFloat64);
    group->all_reduce_sum(sum);
    got["sum"] = sum;
    auto max = torch::tensor({static_cast<double>(r), -static_cast<double>(r)}, torch::kFloat64);
    group->all_reduce_max(max);
    got["max"] = max;
    got["gathered"] = torch::stack(group->all_gather(torch::full({2}, r, torch::kInt64)));
    const auto text = group->broadcast_text(r == 0 ? std::string("valid_loss\t0.25\n") : std::string("ignored"));
    group->barrier();
    return std::make_pair(got, text);
  };
  auto second = std::async(std::launch::async, rank, 1);
  auto [got0, text0] = rank(0);
  auto [got1, text1] = second.get();
  for (const auto* got : {&got0, &got1}) {
    CHECK(torch::equal(got->at("weights"), torch::ones({2, 3})));
    CHECK(got->at("steps").item<int64_t>() == 10);
    CHECK(torch::equal(got->at("sum"), torch::tensor({2.0, 1.0}, torch::kFloat64)));
    CHECK(torch::equal(got->at("max"), torch::tensor({1.0, 0.0}, torch::kFloat64)));
    CHECK(torch::equal(got->at("gathered"), torch::tensor({0, 0, 1, 1}, torch::kInt64).view({2, 2})));
  }
  CHECK(text0 == "valid_loss\t0.25\n");
  CHECK(text1 == "valid_loss\t0.25\n");
}
