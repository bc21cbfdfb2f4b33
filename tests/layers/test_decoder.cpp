#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/layers/decoder.h"
#include "../support/golden.h"

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
