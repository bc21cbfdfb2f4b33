// FlopCounter counts the matrix products that run (2 operations per multiply-add), and the GEMM
// ceiling is measured once and then read from its cache.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <torch/torch.h>

#include "torchzoo/train/flop_counter.h"
#include "torchzoo/train/gemm_ceiling.h"

using torchzoo::train::FlopCounter;

TEST_CASE("FlopCounter counts a linear layer's forward and backward products") {
  torch::manual_seed(0);
  torch::nn::Linear linear(64, 128);
  auto x = torch::randn({32, 64}, torch::requires_grad());
  const uint64_t product = 2ULL * 32 * 64 * 128;
  uint64_t forward = 0, total = 0;
  {
    FlopCounter counter;
    auto y = linear(x);
    forward = counter.flops();
    y.sum().backward();
    total = counter.flops();
  }
  CHECK(forward == product);
  CHECK(total == 3 * product);  // the input's and the weight's gradients
  auto untracked = linear(x);   // the counter is gone: nothing adds up any more
  CHECK(untracked.defined());
}

TEST_CASE("FlopCounter counts batched products and attention on either kernel") {
  const int64_t b = 2, h = 4, l = 8, s = 6, e = 16;
  {
    FlopCounter counter;
    auto c = torch::matmul(torch::randn({b, l, e}), torch::randn({b, e, s}));
    CHECK(counter.flops() == 2ULL * b * l * e * s);
  }
  auto q = torch::randn({b, h, l, e}, torch::requires_grad());
  auto k = torch::randn({b, h, s, e}, torch::requires_grad());
  auto v = torch::randn({b, h, s, e}, torch::requires_grad());
  const uint64_t product = 2ULL * b * h * l * s * e;
  FlopCounter counter;
  auto out = at::scaled_dot_product_attention(q, k, v);
  CHECK(counter.flops() == 2 * product);  // QK^T and PV, fused kernel or math
  out.sum().backward();
  CHECK(counter.flops() == 6 * product);  // and dQ, dK, dV, dP
}

TEST_CASE("The GEMM ceiling is measured once, then read from its cache") {
  const auto folder = std::filesystem::temp_directory_path() / ("torchzoo_gemm_" + std::to_string(::getpid()));
  std::filesystem::remove_all(folder);
  const auto path = (folder / "gemm_ceiling.json").string();
  const auto first = torchzoo::train::gemm_ceiling(torch::kCPU, torch::kFloat32, path);
  CHECK_FALSE(first.cached);
  CHECK(first.flops_per_s > 1e8);  // any CPU of this century multiplies faster than 0.1 GFLOP/s
  CHECK_THAT(first.key, Catch::Contains("Float"));
  const auto second = torchzoo::train::gemm_ceiling(torch::kCPU, torch::kFloat32, path);
  CHECK(second.cached);
  CHECK(second.flops_per_s == first.flops_per_s);
  {
    std::ofstream damaged(path);
    damaged << "{ not json";
  }
  const auto third = torchzoo::train::gemm_ceiling(torch::kCPU, torch::kFloat32, path);
  CHECK_FALSE(third.cached);
  CHECK(torchzoo::train::gemm_ceiling(torch::kCPU, torch::kFloat32, path).cached);
  std::filesystem::remove_all(folder);
}

TEST_CASE("Measuring the GEMM ceiling leaves the run's random stream alone") {
  torch::manual_seed(5);
  const auto expected = torch::rand({4});
  torch::manual_seed(5);
  torchzoo::train::measure_gemm_flops(torch::kCPU, torch::kFloat32, 64);
  CHECK(torch::equal(torch::rand({4}), expected));
}

TEST_CASE("train.linear_kernel resolves explicit settings, and auto by a cached measurement") {
  using torchzoo::layers::LinearKernel;
  using torchzoo::train::choose_linear_kernel;
  const auto folder = std::filesystem::temp_directory_path() / ("torchzoo_linear_" + std::to_string(::getpid()));
  std::filesystem::remove_all(folder);
  const auto path = (folder / "gemm_ceiling.json").string();

  CHECK(choose_linear_kernel("blas", torch::kCPU, std::nullopt, path).kernel == LinearKernel::kBlas);
  const auto onednn = choose_linear_kernel("onednn", torch::kCPU, std::nullopt, path);
  CHECK(onednn.kernel == LinearKernel::kOneDnn);
  CHECK(onednn.describe() == "linear kernel onednn (train.linear_kernel onednn)");
  REQUIRE_THROWS_WITH(choose_linear_kernel("onednn", torch::Device("cuda:0"), std::nullopt, path),
                      Catch::Contains("cannot apply here, the linears run on cuda:0"));
  REQUIRE_THROWS_WITH(choose_linear_kernel("onednn", torch::kCPU, torch::kBFloat16, path),
                      Catch::Contains("autocast BFloat16"));
  const auto under_autocast = choose_linear_kernel("auto", torch::kCPU, torch::kBFloat16, path);
  CHECK(under_autocast.kernel == LinearKernel::kBlas);
  CHECK_THAT(under_autocast.reason, Catch::Contains("autocast"));
  CHECK_FALSE(std::filesystem::exists(path));  // nothing measured for those

  const auto first = choose_linear_kernel("auto", torch::kCPU, std::nullopt, path);
  CHECK_THAT(first.reason, Catch::Contains("GFLOP/s"));  // measured: both kernels' figures
  const auto second = choose_linear_kernel("auto", torch::kCPU, std::nullopt, path);
  CHECK_THAT(second.reason, Catch::Contains("cached"));
  CHECK(second.kernel == first.kernel);
  CHECK(torchzoo::layers::linear_kernel() == LinearKernel::kBlas);  // choosing sets nothing
  std::filesystem::remove_all(folder);
}

TEST_CASE("Both linear kernels' training products are measured") {
  using torchzoo::layers::LinearKernel;
  CHECK(torchzoo::train::measure_linear_flops(LinearKernel::kBlas, 64, 32) > 1e6);
  CHECK(torchzoo::train::measure_linear_flops(LinearKernel::kOneDnn, 64, 32) > 1e6);
}
