#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/layers/encoder.h"
#include "../support/golden.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

namespace {

bool has_parameter_prefix(torch::nn::Module& module, const std::string& prefix) {
  for (const auto& item : module.named_parameters()) {
    if (item.key().compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("Encoder matches the reference", "[layers][encoder][golden]") {
  const bool fused = GENERATE(true, false);
  INFO((fused ? "fused" : "math") << " attention");
  const auto golden = load_golden("encoder");
  const auto layer = TransformerLayerOptions(kDModel, kHeads, kDff).dropout(0.0).fused_attention(fused);
  Encoder encoder(EncoderOptions(layer, /*num_layers=*/2));
  encoder->eval();
  load_parameters(*encoder, golden);
  auto in = inputs(golden);
  check_parity(*encoder, encoder(in.at("x"), in.at("mask")), golden, in);
}

TEST_CASE("Encoder has a final norm only with pre-norm layers", "[layers][encoder]") {
  Encoder pre(EncoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff), 2));
  CHECK(has_parameter_prefix(*pre, "norm."));
  CHECK(has_parameter_prefix(*pre, "layers.1.sublayer.1.norm."));

  Encoder post(EncoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff).norm_first(false), 2));
  CHECK_FALSE(has_parameter_prefix(*post, "norm."));
  CHECK(post->norm.is_empty());
  CHECK(has_parameter_prefix(*post, "layers.1.sublayer.1.norm."));  // the layers keep theirs

  // Post-norm output is the last layer's output, already normalised (gain 1, bias 0 at init).
  post->eval();
  auto x = torch::randn({kBatch, 3, kDModel});
  auto mask = torch::ones({kBatch, 1, 3}, torch::kBool);
  auto out = post(x, mask);
  auto first = post->layers->ptr<EncoderLayerImpl>(0);
  auto second = post->layers->ptr<EncoderLayerImpl>(1);
  check_close(out, second->forward(first->forward(x, mask), mask), 1e-6, "post-norm stack");
  check_close(out.mean(-1), torch::zeros({kBatch, 3}), 1e-5, "row means");
}

TEST_CASE("Encoder validates options and input", "[layers][encoder][errors]") {
  REQUIRE_THROWS_WITH(Encoder(EncoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff), 0)),
                      Catch::Contains("Encoder: num_layers must be positive, got 0"));
  REQUIRE_THROWS_WITH(Encoder(EncoderOptions(TransformerLayerOptions(kDModel, 5, kDff), 1)),
                      Catch::Contains("must be divisible by num_heads (5)"));
  Encoder encoder(EncoderOptions(TransformerLayerOptions(kDModel, kHeads, kDff), 1));
  REQUIRE_THROWS_WITH(encoder(torch::randn({kBatch, 3, 12}), torch::ones({kBatch, 1, 3}, torch::kBool)),
                      Catch::Contains("Encoder: expected input of shape [B, T, 16], got [2, 3, 12]"));
  REQUIRE_THROWS_WITH(encoder(torch::randn({kBatch, 3, kDModel}), torch::ones({kBatch, 3}, torch::kBool)),
                      Catch::Contains("expected mask of shape"));
}
