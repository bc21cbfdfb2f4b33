#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/layers/attention.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("Attention (fused qkv) matches the timm-structured reference on both paths", "[layers][attention][golden]") {
  const bool qkv_bias = GENERATE(true, false);
  const bool fused = GENERATE(true, false);
  const auto case_name = qkv_bias ? "vit_attention" : "vit_attention_no_qkv_bias";
  INFO("case " << case_name << ", fused " << fused);
  const auto golden = load_golden(case_name);
  Attention attn(AttentionOptions(kDModel, kHeads).qkv_bias(qkv_bias).fused(fused));
  attn->eval();
  load_parameters(*attn, golden);
  auto in = inputs(golden);
  check_parity(*attn, attn(in.at("x")), golden, in);
}

TEST_CASE("Attention keeps an attention map whose rows sum to one", "[layers][attention]") {
  torch::manual_seed(3);
  Attention attn(AttentionOptions(kDModel, kHeads).keep_attention_weights(true));
  attn->eval();
  auto x = torch::randn({kBatch, 5, kDModel});
  auto y = attn(x);
  const auto& weights = attn->attention_weights();
  REQUIRE(weights.sizes() == torch::IntArrayRef({kBatch, kHeads, 5, 5}));
  CHECK(torch::allclose(weights.sum(-1), torch::ones({kBatch, kHeads, 5})));
  // The kept-weights (math) path computes the same function as the fused one.
  Attention fused(AttentionOptions(kDModel, kHeads));
  fused->eval();
  torch::NoGradGuard no_grad;
  for (const auto& p : attn->named_parameters()) fused->named_parameters()[p.key()].copy_(p.value());
  CHECK(max_abs_diff(fused(x), y) < 1e-5);
}

TEST_CASE("Attention applies attention dropout only in training", "[layers][attention]") {
  torch::manual_seed(4);
  Attention attn(AttentionOptions(kDModel, kHeads).attn_drop(0.5));
  auto x = torch::randn({kBatch, 5, kDModel});
  attn->eval();
  CHECK(torch::equal(attn(x), attn(x)));
  attn->train();
  CHECK(max_abs_diff(attn(x), attn(x)) > 1e-4);
}

TEST_CASE("Attention validates options and input", "[layers][attention][errors]") {
  REQUIRE_THROWS_WITH(Attention(AttentionOptions(10, 4)),
                      Catch::Contains("dim (10) must be divisible by num_heads (4)"));
  REQUIRE_THROWS_WITH(Attention(AttentionOptions(16, 4).attn_drop(1.0)),
                      Catch::Contains("attn_drop must be in [0, 1)"));
  Attention attn(AttentionOptions(16, 4));
  REQUIRE_THROWS_WITH(attn(torch::randn({2, 5, 8})), Catch::Contains("expected x of shape [B, N, 16], got [2, 5, 8]"));
}
