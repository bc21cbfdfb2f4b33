#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <string>

#include "../support/golden.h"
#include "torchzoo/layers/decoder_layer.h"
#include "torchzoo/layers/detail/linear.h"
#include "torchzoo/layers/encoder_layer.h"
#include "torchzoo/layers/linear_kernel.h"
#include "torchzoo/layers/mlp.h"
#include "torchzoo/train/autocast.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

namespace {

/// Sets the process-wide kernel for a scope (tests must leave the default behind them).
struct KernelScope {
  explicit KernelScope(LinearKernel kernel) : previous(linear_kernel()) { set_linear_kernel(kernel); }
  ~KernelScope() { set_linear_kernel(previous); }
  LinearKernel previous;
};

struct LinearRun {
  torch::Tensor y, grad_x, grad_w, grad_b;
  std::string node;  ///< the autograd node that made y
};

/// y = linear(x, w, b) through `kernel`, and the gradients of (y * g).sum().
LinearRun run_linear(LinearKernel kernel, const torch::Tensor& x_in, const torch::Tensor& w_in,
                     const torch::Tensor& b_in) {
  KernelScope scope(kernel);
  auto x = x_in.detach().clone().requires_grad_(true);
  auto w = w_in.detach().clone().requires_grad_(true);
  auto b = b_in.defined() ? b_in.detach().clone().requires_grad_(true) : torch::Tensor();
  // A non-contiguous input where the case asks for one: the same values, transposed twice.
  auto input = x_in.is_contiguous() ? x : x.transpose(0, 1).contiguous().transpose(0, 1);
  LinearRun run;
  run.y = torchzoo::detail::linear(input, w, b);
  run.node = run.y.grad_fn() ? run.y.grad_fn()->name() : "";
  auto g = torch::linspace(-1.0, 1.0, run.y.numel()).view(run.y.sizes());
  (run.y * g).sum().backward();
  run.grad_x = x.grad();
  run.grad_w = w.grad();
  if (b.defined()) run.grad_b = b.grad();
  return run;
}

}  // namespace

TEST_CASE("oneDNN's training linear equals at::linear, forward and gradients", "[layers][linear_kernel]") {
  REQUIRE(onednn_linear_available());  // LibTorch's x86 and aarch64 builds carry oneDNN
  const auto shape = GENERATE(as<std::string>{}, "3-d with bias", "2-d without bias", "non-contiguous");
  INFO(shape);
  torch::manual_seed(3);
  auto x = shape == "2-d without bias" ? torch::randn({37, 48}) : torch::randn({5, 7, 48});
  if (shape == "non-contiguous") x = x.transpose(0, 1).contiguous().transpose(0, 1);  // [5, 7, 48], strided
  const auto w = torch::randn({96, 48}) * 0.1;
  const auto b = shape == "2-d without bias" ? torch::Tensor() : torch::randn({96});

  const auto blas = run_linear(LinearKernel::kBlas, x, w, b);
  const auto onednn = run_linear(LinearKernel::kOneDnn, x, w, b);
  CHECK(onednn.node.find("OneDnnLinearFunction") != std::string::npos);
  CHECK(blas.node.find("OneDnnLinearFunction") == std::string::npos);
  CHECK(onednn.y.sizes() == blas.y.sizes());
  CHECK(torch::allclose(onednn.y, blas.y, 1e-5, 1e-5));
  CHECK(torch::allclose(onednn.grad_x, blas.grad_x, 1e-5, 1e-5));
  CHECK(torch::allclose(onednn.grad_w, blas.grad_w, 1e-5, 1e-5));
  CHECK(onednn.grad_b.defined() == b.defined());
  if (b.defined()) CHECK(torch::allclose(onednn.grad_b, blas.grad_b, 1e-5, 1e-5));
}

TEST_CASE("The oneDNN kernel leaves autocast, other dtypes and frozen weights to at::linear",
          "[layers][linear_kernel]") {
  KernelScope scope(LinearKernel::kOneDnn);
  torch::manual_seed(4);
  const auto x = torch::randn({4, 16}, torch::requires_grad());
  const auto w = torch::randn({8, 16}, torch::requires_grad());
  SECTION("float64") {
    auto y = torchzoo::detail::linear(x.to(torch::kDouble), w.to(torch::kDouble), {});
    CHECK(std::string(y.grad_fn()->name()).find("OneDnn") == std::string::npos);
  }
  SECTION("bf16 autocast") {
    torchzoo::train::AutocastGuard autocast(torch::kCPU, torch::kBFloat16);
    auto y = torchzoo::detail::linear(x, w, {});
    CHECK(y.scalar_type() == torch::kBFloat16);  // at::linear's autocast cast, kept
    CHECK(std::string(y.grad_fn()->name()).find("OneDnn") == std::string::npos);
  }
  SECTION("only the input needs a gradient") {
    auto y = torchzoo::detail::linear(x, w.detach(), {});
    y.sum().backward();
    CHECK(torch::allclose(x.grad(), w.detach().sum(0).expand({4, 16}), 1e-5, 1e-5));
  }
}

TEST_CASE("Layers through the oneDNN kernel match the references, gradients included",
          "[layers][linear_kernel][golden]") {
  KernelScope scope(LinearKernel::kOneDnn);
  SECTION("EncoderLayer") {
    const auto golden = load_golden("encoder_layer");
    EncoderLayer layer(EncoderLayerOptions(kDModel, kHeads, kDff).dropout(0.0));
    layer->eval();
    load_parameters(*layer, golden);
    auto in = inputs(golden);
    check_parity(*layer, layer(in.at("x"), in.at("mask")), golden, in);
  }
  SECTION("DecoderLayer") {
    const auto golden = load_golden("decoder_layer");
    DecoderLayer layer(DecoderLayerOptions(kDModel, kHeads, kDff).dropout(0.0));
    layer->eval();
    load_parameters(*layer, golden);
    auto in = inputs(golden);
    check_parity(*layer, layer(in.at("x"), in.at("memory"), in.at("src_mask"), in.at("tgt_mask")), golden, in);
  }
  SECTION("ViT Mlp") {
    const auto golden = load_golden("vit_mlp");
    Mlp mlp(MlpOptions(kDModel, kDff));
    mlp->eval();
    load_parameters(*mlp, golden);
    auto in = inputs(golden);
    check_parity(*mlp, mlp(in.at("x")), golden, in);
  }
}

TEST_CASE("Linear kernel names", "[layers][linear_kernel]") {
  CHECK(parse_linear_kernel("blas") == LinearKernel::kBlas);
  CHECK(parse_linear_kernel("onednn") == LinearKernel::kOneDnn);
  CHECK(to_string(LinearKernel::kOneDnn) == "onednn");
  REQUIRE_THROWS_WITH(parse_linear_kernel("mkl"), Catch::Contains("expected blas or onednn, got 'mkl'"));
  CHECK(linear_kernel() == LinearKernel::kBlas);  // the default, and what every test leaves behind
}
