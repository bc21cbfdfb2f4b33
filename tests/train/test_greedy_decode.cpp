#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/data/masks.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/tests/support/golden.h"
#include "torchzoo/train/greedy_decode.h"

using namespace torchzoo;
using testing::golden_value;

namespace {

/// The reference model of the greedy_decode case: make_model(11, 11, N=2, d_model=32, d_ff=64, h=4).
models::EncoderDecoder reference_model(const testing::Golden& golden) {
  models::EncoderDecoder model(
      models::EncoderDecoderOptions(11, 11).num_layers(2).d_model(32).d_ff(64).num_heads(4).dropout(0.0));
  testing::load_parameters(*model, golden);
  model->eval();
  return model;
}

}  // namespace

TEST_CASE("Batched greedy decoding equals the reference's one-sentence-at-a-time decoding", "[greedy][parity]") {
  auto golden = testing::load_golden("greedy_decode");
  auto model = reference_model(golden);
  const auto& src = golden_value(golden, "input.src");
  auto options = train::GreedyDecodeOptions(golden_value(golden, "input.max_len").item<int64_t>(),
                                            golden_value(golden, "input.start_symbol").item<int64_t>());
  for (bool fused : {true, false}) {
    INFO("fused attention " << fused);
    for (auto& module : model->modules()) {
      if (auto* attention = module->as<layers::MultiHeadedAttentionImpl>()) attention->options.fused(fused);
    }
    auto tokens = train::greedy_decode(*model, src, golden_value(golden, "input.src_mask"), options);
    testing::check_close(tokens, golden_value(golden, "output"), 0, "tokens");
  }
}

TEST_CASE("Greedy decoding pads rows after their end symbol and stops when all have ended", "[greedy]") {
  auto golden = testing::load_golden("greedy_decode");
  auto model = reference_model(golden);
  const auto& src = golden_value(golden, "input.src");
  const auto& mask = golden_value(golden, "input.src_mask");
  auto reference = golden_value(golden, "output");  // row 0: 1 5 8 2 5 1 5, row 1: 1 5 8 2 7 0 0
  // Token 2 appears in both rows at position 3: with end_symbol 2 both rows end there.
  auto tokens = train::greedy_decode(*model, src, mask, train::GreedyDecodeOptions(7, 1).end_symbol(2).pad(0));
  REQUIRE(tokens.size(1) == 4);
  testing::check_close(tokens, reference.narrow(1, 0, 4), 0, "tokens up to the end symbol");
  // With end_symbol 7 only row 1 ends (position 4); what follows is padding.
  auto partly = train::greedy_decode(*model, src, mask, train::GreedyDecodeOptions(7, 1).end_symbol(7).pad(10));
  REQUIRE(partly.size(1) == 7);
  testing::check_close(partly[0], reference[0], 0, "row 0 never ends");
  REQUIRE(partly[1][4].item<int64_t>() == 7);
  REQUIRE(partly[1].narrow(0, 5, 2).eq(10).all().item<bool>());
}

TEST_CASE("Greedy decoding rejects a bad max_len", "[greedy][errors]") {
  models::EncoderDecoder model(models::EncoderDecoderOptions(11, 11).num_layers(1).d_model(16).d_ff(16).num_heads(2));
  auto src = torch::ones({1, 3}, torch::kLong);
  REQUIRE_THROWS_WITH(train::greedy_decode(*model, src, data::padding_mask(src, 0), train::GreedyDecodeOptions(0, 1)),
                      Catch::Contains("max_len must be >= 1, got 0"));
}
