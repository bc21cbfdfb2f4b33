#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/layers/drop_path.h"
#include "torchzoo/layers/layer_scale.h"
#include "torchzoo/layers/vit_block.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("VitBlock matches the timm-structured reference", "[layers][vit_block][golden]") {
  const bool layer_scale = GENERATE(false, true);
  const bool fused = GENERATE(true, false);
  const auto case_name = layer_scale ? "vit_block_layer_scale" : "vit_block";
  INFO("case " << case_name << ", fused " << fused);
  const auto golden = load_golden(case_name);
  auto options = VitBlockOptions(kDModel, kHeads).mlp_ratio(2.0).qkv_bias(true).fused_attention(fused);
  if (layer_scale) options.init_values(0.5);
  VitBlock block(options);
  block->eval();
  load_parameters(*block, golden);
  auto in = inputs(golden);
  check_parity(*block, block(in.at("x")), golden, in);
}

TEST_CASE("LayerScale starts at init_values and scales channels", "[layers][layer_scale]") {
  LayerScale scale(LayerScaleOptions(4, 0.1));
  CHECK(torch::allclose(scale->gamma, torch::full({4}, 0.1)));
  auto x = torch::ones({2, 3, 4});
  CHECK(torch::allclose(scale(x), torch::full({2, 3, 4}, 0.1)));
  REQUIRE_THROWS_WITH(scale(torch::ones({2, 3, 5})), Catch::Contains("expected x of shape [..., 4], got [2, 3, 5]"));
}

TEST_CASE("DropPath drops whole samples and keeps the expectation", "[layers][drop_path]") {
  torch::manual_seed(5);
  DropPath drop(0.25);
  auto x = torch::ones({4000, 3, 2});
  drop->eval();
  CHECK(torch::equal(drop(x), x));
  drop->train();
  auto y = drop(x);
  // Each sample is either all zero or all 1 / 0.75.
  auto per_sample = y.view({4000, -1});
  auto kept = per_sample.select(1, 0).gt(0);
  CHECK(torch::equal(per_sample, kept.unsqueeze(1).to(torch::kFloat).expand_as(per_sample) / 0.75));
  const double kept_fraction = kept.to(torch::kFloat).mean().item<double>();
  CHECK(kept_fraction == Approx(0.75).margin(0.03));
  CHECK(y.mean().item<double>() == Approx(1.0).margin(0.04));
  REQUIRE_THROWS_WITH(DropPath(1.0), Catch::Contains("DropPath: p must be in [0, 1), got 1"));
}

TEST_CASE("VitBlock without LayerScale has no gamma parameters", "[layers][vit_block]") {
  VitBlock plain(VitBlockOptions(16, 4));
  VitBlock scaled(VitBlockOptions(16, 4).init_values(1e-5));
  CHECK(plain->named_parameters().find("ls1.gamma") == nullptr);
  REQUIRE(scaled->named_parameters().find("ls1.gamma") != nullptr);
  CHECK(scaled->named_parameters().size() == plain->named_parameters().size() + 2);
  CHECK(VitBlockOptions(16, 4).mlp_ratio(2.5).mlp_hidden() == 40);
}
