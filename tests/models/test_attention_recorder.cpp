// models::AttentionRecorder: the attention maps of a forward pass by module name, equal to the
// annotated Transformer's own (its MultiHeadedAttention keeps them in .attn; make_golden.py writes
// them as attn.<name>); the modules' settings restored afterwards; the rollout's algebra.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/models/attention_recorder.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/models/vision_transformer.h"

using namespace torchzoo::models;
using namespace torchzoo::testing;

TEST_CASE("AttentionRecorder returns the reference's attention maps by module name", "[models][attention][golden]") {
  const auto golden = load_golden("encoder_decoder");
  EncoderDecoder model(
      EncoderDecoderOptions(kVocab, kVocab).num_layers(2).d_model(32).d_ff(64).num_heads(4).dropout(0.0));
  model->eval();
  load_parameters(*model, golden);
  const auto in = inputs(golden);
  const auto expected = with_prefix(golden, "attn.");
  REQUIRE(expected.size() == 6);  // 2 encoder self, 2 decoder self, 2 cross
  torch::NoGradGuard no_grad;
  {
    AttentionRecorder recorder(*model);
    CHECK(recorder.maps().empty());  // nothing ran yet
    model(in.at("src"), in.at("tgt"), in.at("src_mask"), in.at("tgt_mask"));
    const auto maps = recorder.maps();
    REQUIRE(maps.size() == expected.size());
    for (const auto& [name, weights] : maps) {
      INFO(name);
      REQUIRE(expected.count(name) == 1);
      check_close(weights, expected.at(name), 1e-5, "attention of " + name);
    }
    CHECK(recorder.map("decoder.layers.1.src_attn").sizes() == torch::IntArrayRef({2, 4, 6, 7}));
    CHECK_THROWS_WITH(recorder.map("decoder.layers.9.src_attn"),
                      Catch::Contains("no attention map 'decoder.layers.9.src_attn'") &&
                          Catch::Contains("decoder.layers.0.src_attn"));
  }
  // Settings restored: the layers take the fused path again and keep nothing.
  auto* src_attn =
      model->named_modules()["decoder.layers.0.src_attn"]->as<torchzoo::layers::MultiHeadedAttentionImpl>();
  REQUIRE(src_attn != nullptr);
  CHECK_FALSE(src_attn->options.keep_attention_weights());
  CHECK_THROWS_WITH(AttentionRecorder(*torch::nn::Linear(2, 2)), Catch::Contains("has no attention modules"));
}

TEST_CASE("AttentionRecorder reaches the ViT's blocks, and the rollout is row-stochastic", "[models][attention]") {
  torch::manual_seed(3);
  VisionTransformer vit(VisionTransformerOptions().img_size(8).patch_size(4).embed_dim(16).depth(3).num_heads(2));
  vit->eval();
  torch::NoGradGuard no_grad;
  AttentionRecorder recorder(*vit);
  vit(torch::randn({2, 1, 8, 8}));
  const auto maps = recorder.maps();
  REQUIRE(maps.size() == 3);
  CHECK(maps[0].first == "blocks.0.attn");
  std::vector<torch::Tensor> layers;
  for (const auto& [name, weights] : maps) {
    CHECK(weights.sizes() == torch::IntArrayRef({2, 2, 5, 5}));  // class token + 2 x 2 patches
    check_close(weights.sum(-1), torch::ones({2, 2, 5}), 1e-5, "rows of " + name);
    layers.push_back(weights);
  }
  const auto rollout = attention_rollout(layers);
  CHECK(rollout.sizes() == torch::IntArrayRef({2, 5, 5}));
  check_close(rollout.sum(-1), torch::ones({2, 5}), 1e-5, "rollout rows");
  // Identity attention (each position attends to itself) rolls out to the identity.
  const auto eye = torch::eye(5).expand({1, 2, 5, 5});
  check_close(attention_rollout({eye, eye}), torch::eye(5).unsqueeze(0), 1e-6, "rollout of the identity");
  // One layer of uniform attention: 0.5 (uniform) + 0.5 I.
  const auto uniform = torch::full({1, 2, 5, 5}, 0.2);
  check_close(attention_rollout({uniform}), (0.5 * torch::full({5, 5}, 0.2) + 0.5 * torch::eye(5)).unsqueeze(0), 1e-6,
              "rollout of uniform attention");
  CHECK_THROWS_WITH(attention_rollout({torch::ones({1, 2, 3, 4})}), Catch::Contains("expected self-attention weights"));
}
