#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "torchzoo/train/fused_adam.h"
#include "../support/golden.h"

using namespace torchzoo::train;
using namespace torchzoo::testing;

namespace {

// Two parameter groups (the second without weight decay) over three parameters, one of them
// without a gradient in odd steps, trained for `steps` on gradients drawn from a fixed seed.
template <class Optimizer, class Options>
std::vector<torch::Tensor> run_steps(const Options& options, int steps, const std::string& save_to = "",
                                     const std::string& load_from = "") {
  torch::manual_seed(11);
  std::vector<torch::Tensor> params{torch::randn({40, 30}), torch::randn({30}), torch::randn({7, 3, 5})};
  for (auto& p : params) p.requires_grad_(true);
  auto quiet = std::make_unique<Options>(options);
  quiet->weight_decay(0.0);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{params[0], params[2]}, std::make_unique<Options>(options));
  groups.emplace_back(std::vector<torch::Tensor>{params[1]}, std::move(quiet));
  Optimizer optimizer(std::move(groups), options);
  if (!load_from.empty()) {
    std::istringstream in(load_from);
    torch::serialize::InputArchive archive;
    archive.load_from(in);
    optimizer.load(archive);
  }
  torch::Generator gradients = at::detail::createCPUGenerator(99);
  for (int step = 0; step < steps; ++step) {
    for (size_t i = 0; i < params.size(); ++i) {
      const auto g = torch::randn(params[i].sizes(), gradients);
      params[i].mutable_grad() = (i == 2 && step % 2 == 1) ? torch::Tensor() : g;
    }
    optimizer.step();
  }
  if (!save_to.empty()) {
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    archive.save_to(save_to);
  }
  return params;
}

void check_same_weights(const std::vector<torch::Tensor>& got, const std::vector<torch::Tensor>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) check_close(got[i], want[i], tol, "parameter " + std::to_string(i));
}

}  // namespace

TEST_CASE("FusedAdam matches torch::optim::Adam", "[train][fused_adam]") {
  for (const bool amsgrad : {false, true}) {
    DYNAMIC_SECTION("amsgrad " << amsgrad) {
      const auto options = torch::optim::AdamOptions(3e-2).betas({0.9, 0.98}).eps(1e-8).weight_decay(0.01).amsgrad(
          amsgrad);
      const auto fused = run_steps<FusedAdam>(options, 25);
      const auto plain = run_steps<torch::optim::Adam>(options, 25);
      check_same_weights(fused, plain, 1e-5);
      // The updates moved the weights far further than the tolerance.
      torch::manual_seed(11);
      CHECK(max_abs_diff(fused[0], torch::randn({40, 30})) > 0.1);
    }
  }
}

TEST_CASE("FusedAdamW matches torch::optim::AdamW", "[train][fused_adam]") {
  const auto options = torch::optim::AdamWOptions(3e-2).betas({0.9, 0.95}).weight_decay(0.1);
  check_same_weights(run_steps<FusedAdamW>(options, 25), run_steps<torch::optim::AdamW>(options, 25), 1e-5);
}

TEST_CASE("FusedAdam's state loads into torch::optim::Adam and back", "[train][fused_adam]") {
  const auto options = torch::optim::AdamOptions(1e-2);
  const auto dir = std::filesystem::temp_directory_path() / ("torchzoo_fused_adam_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "state.pt").string();
  run_steps<FusedAdam>(options, 10, path);
  std::ifstream in(path, std::ios::binary);
  const std::string saved((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  // The same 10 steps again from the saved moments, by each optimizer: the same weights.
  check_same_weights(run_steps<torch::optim::Adam>(options, 10, "", saved),
                     run_steps<FusedAdam>(options, 10, "", saved), 1e-5);
}

TEST_CASE("FusedAdam bumps the parameters' version counters, as an in-place update must",
          "[train][fused_adam]") {
  auto param = torch::randn({6, 4}).requires_grad_(true);
  FusedAdam optimizer({param}, torch::optim::AdamOptions(0.1));
  const auto before = param._version();
  param.mutable_grad() = torch::ones({6, 4});
  optimizer.step();
  CHECK(param._version() > before);
}
