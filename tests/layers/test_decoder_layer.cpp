#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include <optional>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/layers/decoder_layer.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("DecoderLayer matches the reference", "[layers][decoder_layer][golden]") {
  const bool fused = GENERATE(true, false);
  INFO((fused ? "fused" : "math") << " attention");
  const auto golden = load_golden("decoder_layer");
  DecoderLayer layer(DecoderLayerOptions(kDModel, kHeads, kDff).dropout(0.0).fused_attention(fused));
  layer->eval();
  load_parameters(*layer, golden);
  auto in = inputs(golden);
  auto out = layer(in.at("x"), in.at("memory"), in.at("src_mask"), in.at("tgt_mask"));
  check_parity(*layer, out, golden, in);
}

TEST_CASE("DecoderLayer is causal under a subsequent mask", "[layers][decoder_layer]") {
  // Changing a later target position must leave earlier outputs unchanged.
  torch::manual_seed(9);
  DecoderLayer layer(DecoderLayerOptions(kDModel, kHeads, kDff));
  layer->eval();
  auto x = torch::randn({1, 4, kDModel});
  auto memory = torch::randn({1, 3, kDModel});
  auto src_mask = torch::ones({1, 1, 3}, torch::kBool);
  auto tgt_mask = torch::ones({1, 4, 4}, torch::kBool).tril();
  auto changed = x.clone();
  changed[0][3] += 1.0;
  auto a = layer(x, memory, src_mask, tgt_mask);
  auto b = layer(changed, memory, src_mask, tgt_mask);
  check_close(b.narrow(1, 0, 3), a.narrow(1, 0, 3), 1e-6, "earlier positions");
  CHECK(max_abs_diff(b.narrow(1, 3, 1), a.narrow(1, 3, 1)) > 1e-3);
}

TEST_CASE("DecoderLayer rejects mismatched memory and masks", "[layers][decoder_layer][errors]") {
  DecoderLayer layer(DecoderLayerOptions(kDModel, kHeads, kDff));
  auto x = torch::randn({kBatch, 4, kDModel});
  auto memory = torch::randn({kBatch, 3, kDModel});
  auto src_mask = torch::ones({kBatch, 1, 3}, torch::kBool);
  auto tgt_mask = torch::ones({1, 4, 4}, torch::kBool);
  REQUIRE_NOTHROW(layer(x, memory, src_mask, tgt_mask));
  REQUIRE_THROWS_WITH(layer(x, torch::randn({3, 3, kDModel}), src_mask, tgt_mask),
                      Catch::Contains("must share the batch size"));
  REQUIRE_THROWS_WITH(layer(x, memory, torch::ones({kBatch, 1, 4}, torch::kBool), tgt_mask),
                      Catch::Contains("expected mask of shape [2 or 1, 4 or 1, 3], got [2, 1, 4]"));
  REQUIRE_THROWS_WITH(layer(x, memory, src_mask, tgt_mask.to(torch::kLong)), Catch::Contains("expected a bool mask"));
}

TEST_CASE("DecoderLayer steps with cached keys and values equal forward under a subsequent mask",
          "[layers][decoder_layer][incremental]") {
  const bool fused = GENERATE(true, false);
  const bool norm_first = GENERATE(true, false);
  // With gradients the three projections run apart; without, as one product over concatenated weights.
  const int mode = GENERATE(0, 1, 2);
  INFO((fused ? "fused" : "math") << " attention, " << (norm_first ? "pre" : "post") << "-norm, "
                                  << (mode == 0 ? "grad mode" : mode == 1 ? "no grad" : "inference mode"));
  std::optional<torch::NoGradGuard> no_grad;
  std::optional<c10::InferenceMode> inference;
  if (mode == 1) no_grad.emplace();
  if (mode == 2) inference.emplace();
  torch::manual_seed(10);
  DecoderLayer layer(DecoderLayerOptions(kDModel, kHeads, kDff).fused_attention(fused).norm_first(norm_first));
  layer->eval();
  auto x = torch::randn({kBatch, 5, kDModel});
  auto memory = torch::randn({kBatch, 4, kDModel});
  auto src_mask = torch::tensor({true, true, true, true, true, true, false, false}).view({kBatch, 1, 4});
  auto whole = layer(x, memory, src_mask, torch::ones({1, 5, 5}, torch::kBool).tril());

  auto state = layer->init_state(memory);
  CHECK(state.self_attn.length() == 0);
  CHECK(state.src_attn.key.sizes() == torch::IntArrayRef({kBatch, kHeads, 4, kDModel / kHeads}));
  for (int64_t t = 0; t < 5; ++t) {
    INFO("position " << t);
    auto y = layer->step(x.narrow(1, t, 1), src_mask, state);
    check_close(y, whole.narrow(1, t, 1), 1e-5, "step");
    CHECK(state.self_attn.length() == t + 1);
  }
  REQUIRE_THROWS_WITH(layer->step(x.narrow(1, 0, 2), src_mask, state),
                      Catch::Contains("DecoderLayer: expected one position [B, 1, 16] per step, got [2, 2, 16]"));
}
