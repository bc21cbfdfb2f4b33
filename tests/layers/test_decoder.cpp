#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/layers/decoder.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("Decoder matches the reference", "[layers][decoder][golden]") {
  const bool fused = GENERATE(true, false);
  INFO((fused ? "fused" : "math") << " attention");
  const auto golden = load_golden("decoder");
  const auto layer = TransformerLayerOptions(kDModel, kHeads, kDff).dropout(0.0).fused_attention(fused);
  Decoder decoder(DecoderOptions(layer, /*num_layers=*/2));
  decoder->eval();
  load_parameters(*decoder, golden);
  auto in = inputs(golden);
  auto out = decoder(in.at("x"), in.at("memory"), in.at("src_mask"), in.at("tgt_mask"));
  check_parity(*decoder, out, golden, in);
}

TEST_CASE("Decoder has a final norm only with pre-norm layers", "[layers][decoder]") {
  Decoder pre(DecoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff), 1));
  CHECK(pre->named_parameters().contains("norm.a_2"));
  CHECK(pre->named_parameters().contains("layers.0.sublayer.2.norm.b_2"));
  Decoder post(DecoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff).norm_first(false), 1));
  CHECK_FALSE(post->named_parameters().contains("norm.a_2"));
  CHECK(post->norm.is_empty());
  CHECK(post->named_parameters().contains("layers.0.sublayer.2.norm.b_2"));
}

TEST_CASE("Decoder validates options and input", "[layers][decoder][errors]") {
  REQUIRE_THROWS_WITH(Decoder(DecoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff), -1)),
                      Catch::Contains("Decoder: num_layers must be positive, got -1"));
  Decoder decoder(DecoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff), 1));
  auto src_mask = torch::ones({kBatch, 1, 3}, torch::kBool);
  auto tgt_mask = torch::ones({1, 4, 4}, torch::kBool);
  REQUIRE_THROWS_WITH(decoder(torch::randn({kBatch, 4, 8}), torch::randn({kBatch, 3, kDModel}), src_mask, tgt_mask),
                      Catch::Contains("Decoder: expected input of shape [B, T, 16], got [2, 4, 8]"));
  REQUIRE_THROWS_WITH(decoder(torch::randn({kBatch, 4, kDModel}), torch::randn({1, 3, kDModel}), src_mask, tgt_mask),
                      Catch::Contains("Decoder: expected memory of shape [2, T_src, 16], got [1, 3, 16]"));
}

namespace {

struct StepCase {
  torch::Tensor x, memory, src_mask;
};

// Two rows, the second with a padded source.
StepCase step_case(int64_t t_tgt) {
  auto src_mask = torch::ones({kBatch, 1, 6}, torch::kBool);
  src_mask[1].narrow(1, 4, 2).fill_(false);
  return {torch::randn({kBatch, t_tgt, kDModel}), torch::randn({kBatch, 6, kDModel}), src_mask};
}

}  // namespace

TEST_CASE("Decoder steps through the cache give forward's outputs position by position",
          "[layers][decoder][incremental]") {
  const bool fused = GENERATE(true, false);
  const bool norm_first = GENERATE(true, false);
  INFO((fused ? "fused" : "math") << " attention, " << (norm_first ? "pre" : "post") << "-norm");
  torch::manual_seed(21);
  Decoder decoder(
      DecoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff).fused_attention(fused).norm_first(norm_first), 3));
  decoder->eval();
  const auto c = step_case(7);
  auto whole = decoder(c.x, c.memory, c.src_mask, torch::ones({1, 7, 7}, torch::kBool).tril());  // [B, 7, d_model]

  auto state = decoder->init_state(c.memory, c.src_mask);
  REQUIRE(state.layers.size() == 3);
  CHECK(state.length() == 0);
  CHECK(state.batch_size() == kBatch);
  for (int64_t t = 0; t < 7; ++t) {
    INFO("position " << t);
    check_close(decoder->step(c.x.narrow(1, t, 1), state), whole.narrow(1, t, 1), 1e-5, "step");
    CHECK(state.length() == t + 1);
    CHECK(state.layers[2].self_attn.key.sizes() == torch::IntArrayRef({kBatch, kHeads, t + 1, kDModel / kHeads}));
  }
}

TEST_CASE("DecoderState reorder moves every row's cache with it", "[layers][decoder][incremental]") {
  // Decode 3 positions, reorder rows (a permutation with a repeat, as beam search does), decode 2 more:
  // the outputs equal those of decoding the reordered inputs from the start.
  torch::manual_seed(22);
  Decoder decoder(DecoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff), 2));
  decoder->eval();
  const auto c = step_case(5);
  const auto rows = torch::tensor({1, 1, 0}, torch::kLong);

  auto state = decoder->init_state(c.memory, c.src_mask);
  for (int64_t t = 0; t < 3; ++t) decoder->step(c.x.narrow(1, t, 1), state);
  state.reorder(rows);
  CHECK(state.batch_size() == 3);
  CHECK(state.length() == 3);
  CHECK(torch::equal(state.src_mask, c.src_mask.index_select(0, rows)));

  const auto x = c.x.index_select(0, rows);
  auto fresh = decoder->init_state(c.memory.index_select(0, rows), c.src_mask.index_select(0, rows));
  for (int64_t t = 0; t < 3; ++t) decoder->step(x.narrow(1, t, 1), fresh);
  for (int64_t t = 3; t < 5; ++t) {
    INFO("position " << t);
    check_close(decoder->step(x.narrow(1, t, 1), state), decoder->step(x.narrow(1, t, 1), fresh), 1e-6,
                "after reorder");
  }
  REQUIRE_THROWS_WITH(state.reorder(torch::tensor({0, 1}, torch::kInt)),
                      Catch::Contains("DecoderState: expected rows as a 1-d int64 tensor, got [2] of type Int"));
}

TEST_CASE("Decoder step validates its input and state", "[layers][decoder][incremental][errors]") {
  Decoder decoder(DecoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff), 2));
  const auto c = step_case(2);
  auto state = decoder->init_state(c.memory, c.src_mask);
  REQUIRE_THROWS_WITH(decoder->step(c.x, state),
                      Catch::Contains("Decoder: expected one position of shape [2, 1, 16] per step, got [2, 2, 16]"));
  REQUIRE_THROWS_WITH(decoder->step(c.x.narrow(0, 0, 1).narrow(1, 0, 1), state), Catch::Contains("got [1, 1, 16]"));
  REQUIRE_THROWS_WITH(decoder->init_state(c.memory, c.src_mask.narrow(2, 0, 3)),
                      Catch::Contains("Decoder: expected src_mask of shape [2, 1, 6] for incremental decoding, got "
                                      "[2, 1, 3]"));
  Decoder deeper(DecoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff), 3));
  REQUIRE_THROWS_WITH(deeper->step(c.x.narrow(1, 0, 1), state),
                      Catch::Contains("Decoder: the state holds 2 layers, the decoder has 3"));
}
