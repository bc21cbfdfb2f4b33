#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/data/masks.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/models/decoder_only_lm.h"

using namespace torchzoo::models;
using namespace torchzoo::testing;
using torchzoo::data::causal_padding_mask;

namespace {

// make_golden.py's DecoderOnlyLM(11, N=2, d_model=16, d_ff=32, h=4, dropout=0.0, max_len=64): learned
// positions, GELU, untied (the reference's named_parameters would list a tied matrix once).
DecoderOnlyLMOptions lm_options() {
  return DecoderOnlyLMOptions(kVocab)
      .num_layers(2)
      .d_model(kDModel)
      .d_ff(kDff)
      .num_heads(kHeads)
      .dropout(0.0)
      .attention_dropout(0.0)
      .max_len(64)
      .tie_embeddings(false);
}

torch::Tensor log_probs(DecoderOnlyLMImpl& lm, const torch::Tensor& tokens) {
  return lm.generator(lm.forward(tokens, causal_padding_mask(tokens, kPad)));  // [B, T, vocab]
}

}  // namespace

TEST_CASE("DecoderOnlyLM matches the PyTorch reference", "[models][lm][golden]") {
  const bool fused = GENERATE(true, false);
  INFO((fused ? "fused" : "math") << " attention");
  const auto golden = load_golden("decoder_only_lm");
  DecoderOnlyLM lm(lm_options().fused_attention(fused));
  lm->eval();
  load_parameters(*lm, golden);  // also REQUIREs the parameter names equal the reference's
  auto in = inputs(golden);
  check_parity(*lm, lm->generator(lm(in.at("tokens"), in.at("mask"))), golden, in);
}

TEST_CASE("DecoderOnlyLM is causal: a later token never changes earlier outputs", "[models][lm]") {
  const bool learned = GENERATE(true, false);
  INFO((learned ? "learned" : "sinusoidal") << " positions");
  torch::manual_seed(1);
  DecoderOnlyLM lm(lm_options().learned_positions(learned));
  lm->eval();
  torch::NoGradGuard no_grad;
  auto tokens = torch::tensor({2, 5, 7, 3, 9, 4, 6}, torch::kLong).view({1, 7});
  const auto before = log_probs(*lm, tokens);
  for (int64_t t = 1; t < 7; ++t) {
    auto changed = tokens.clone();
    changed[0][t] = changed[0][t].item<int64_t>() % 10 + 1;
    const auto after = log_probs(*lm, changed);
    INFO("token " << t << " changed");
    CHECK(max_abs_diff(before.narrow(1, 0, t), after.narrow(1, 0, t)) < 1e-6);
    CHECK(max_abs_diff(before.narrow(1, t, 7 - t), after.narrow(1, t, 7 - t)) > 1e-4);
  }
}

TEST_CASE("DecoderOnlyLM steps with cached keys and values give forward's outputs", "[models][lm][incremental]") {
  const bool learned = GENERATE(true, false);
  const bool fused = GENERATE(true, false);
  INFO((learned ? "learned" : "sinusoidal") << " positions, " << (fused ? "fused" : "math") << " attention");
  torch::manual_seed(2);
  DecoderOnlyLM lm(lm_options().learned_positions(learned).fused_attention(fused));
  lm->eval();
  torch::NoGradGuard no_grad;
  auto tokens = torch::randint(1, kVocab, {3, 9}, torch::kLong);
  const auto full = log_probs(*lm, tokens);  // [3, 9, vocab]
  LMState state;
  for (int64_t t = 0; t < 9; ++t) {
    const auto step = lm->generator(lm->step(tokens.narrow(1, t, 1), state));  // [3, 1, vocab]
    CHECK(state.length() == t + 1);
    CHECK(max_abs_diff(step, full.narrow(1, t, 1)) < 1e-5);
  }
  // Reordering the state follows the rows.
  auto rows = torch::tensor({2, 0}, torch::kLong);
  state.reorder(rows);
  auto next = torch::tensor({4, 8}, torch::kLong).view({2, 1});
  const auto stepped = lm->generator(lm->step(next, state));
  auto extended = torch::cat({tokens.index_select(0, rows), next}, 1);  // [2, 10]
  CHECK(max_abs_diff(stepped, log_probs(*lm, extended).narrow(1, 9, 1)) < 1e-5);
}

TEST_CASE("DecoderOnlyLM ties its output projection to the embeddings", "[models][lm]") {
  DecoderOnlyLM lm(lm_options().tie_embeddings(true));
  auto params = lm->named_parameters();
  REQUIRE(params["generator.proj.weight"].is_same(params["embed.0.lut.weight"]));
  // Counted once by optimizers, and still tied in a clone.
  int64_t matrices = 0;
  for (const auto& p : torchzoo::layers::unique_parameters(*lm))
    matrices += p.sizes() == params["embed.0.lut.weight"].sizes();
  CHECK(matrices == 1);
  auto copy = std::dynamic_pointer_cast<DecoderOnlyLMImpl>(lm->clone());
  auto copied = copy->named_parameters();
  CHECK(copied["generator.proj.weight"].is_same(copied["embed.0.lut.weight"]));
  CHECK_FALSE(copied["embed.0.lut.weight"].is_same(params["embed.0.lut.weight"]));
}

TEST_CASE("DecoderOnlyLM validates its inputs", "[models][lm][errors]") {
  CHECK_THROWS_WITH(DecoderOnlyLM(DecoderOnlyLMOptions(0)), Catch::Contains("vocab must be positive, got 0"));
  DecoderOnlyLM lm(lm_options());
  LMState state;
  CHECK_THROWS_WITH(lm->step(torch::ones({2, 3}, torch::kLong), state),
                    Catch::Contains("expected one token per row [B, 1], got [2, 3]"));
  auto long_input = torch::ones({1, 65}, torch::kLong);
  CHECK_THROWS_WITH(lm(long_input, causal_padding_mask(long_input, kPad)), Catch::Contains("exceed max_len 64"));
}
