#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/layers/encoder_layer.h"
#include "../support/golden.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

namespace {

void randomize_norms(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters()) {
    if (item.key().find("norm.a_2") != std::string::npos) item.value().uniform_(0.5, 1.5);
    if (item.key().find("norm.b_2") != std::string::npos) item.value().uniform_(-0.5, 0.5);
  }
}

}  // namespace

TEST_CASE("EncoderLayer matches the reference", "[layers][encoder_layer][golden]") {
  const bool fused = GENERATE(true, false);
  INFO((fused ? "fused" : "math") << " attention");
  const auto golden = load_golden("encoder_layer");
  EncoderLayer layer(EncoderLayerOptions(kDModel, kHeads, kDff).dropout(0.0).fused_attention(fused));
  layer->eval();
  load_parameters(*layer, golden);
  auto in = inputs(golden);
  check_parity(*layer, layer(in.at("x"), in.at("mask")), golden, in);
}

TEST_CASE("Post-norm EncoderLayer normalises each residual sum", "[layers][encoder_layer]") {
  torch::manual_seed(8);
  EncoderLayer layer(EncoderLayerOptions(kDModel, kHeads, kDff).norm_first(false));
  randomize_norms(*layer);
  layer->eval();
  auto x = torch::randn({kBatch, 5, kDModel});
  auto mask = torch::tensor({true, true, true, true, true, true, true, true, false, false}).view({kBatch, 1, 5});

  auto norm0 = layer->sublayer->ptr<SublayerConnectionImpl>(0)->norm;
  auto norm1 = layer->sublayer->ptr<SublayerConnectionImpl>(1)->norm;
  auto y = norm0(x + layer->self_attn(x, x, x, mask));
  auto expected = norm1(y + layer->feed_forward(y));
  auto out = layer(x, mask);
  check_close(out, expected, 1e-5, "post-norm layer");

  // The same weights wired pre-norm give another result.
  auto pre = std::dynamic_pointer_cast<EncoderLayerImpl>(layer->clone());
  for (auto& child : *pre->sublayer) child->as<SublayerConnectionImpl>()->options.norm_first(true);
  CHECK(max_abs_diff(pre->forward(x, mask), out) > 1e-2);
}

TEST_CASE("EncoderLayer keeps the reference parameter names", "[layers][encoder_layer]") {
  EncoderLayer layer(EncoderLayerOptions(kDModel, kHeads, kDff));
  const auto params = layer->named_parameters();
  CHECK(params.size() == 8 + 4 + 4);  // attention, feed-forward, two norms
  for (const auto* name : {"self_attn.linears.3.bias", "feed_forward.w_1.weight", "feed_forward.w_2.bias",
                           "sublayer.0.norm.a_2", "sublayer.1.norm.b_2"}) {
    INFO(name);
    CHECK(params.contains(name));
  }
}

TEST_CASE("EncoderLayer rejects a mask of the wrong shape", "[layers][encoder_layer][errors]") {
  EncoderLayer layer(EncoderLayerOptions(kDModel, kHeads, kDff));
  auto x = torch::randn({kBatch, 5, kDModel});
  REQUIRE_THROWS_WITH(layer(x, torch::ones({kBatch, 1, 6}, torch::kBool)), Catch::Contains("expected mask of shape"));
  REQUIRE_THROWS_WITH(layer(torch::randn({kBatch, 5, 8}), torch::ones({kBatch, 1, 5}, torch::kBool)),
                      Catch::Contains("expected input of shape [..., 16], got [2, 5, 8]"));
}
