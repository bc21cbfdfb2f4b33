#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/models/vision_transformer.h"

using namespace torchzoo::models;
using namespace torchzoo::testing;

namespace {

// vit_golden.py's vit_token / vit_avg: img 8, patch 4, 3 channels, 5 classes, embed 16, depth 2, 4 heads.
VisionTransformerOptions small_options(GlobalPool pool) {
  return VisionTransformerOptions()
      .img_size(8)
      .patch_size(4)
      .in_chans(3)
      .num_classes(5)
      .embed_dim(16)
      .depth(2)
      .num_heads(4)
      .mlp_ratio(2.0)
      .qkv_bias(true)
      .global_pool(pool);
}

}  // namespace

TEST_CASE("VisionTransformer matches the timm-structured reference", "[models][vision_transformer][golden]") {
  const auto pool = GENERATE(GlobalPool::kToken, GlobalPool::kAvg);
  const auto case_name = pool == GlobalPool::kToken ? "vit_token" : "vit_avg";
  INFO("case " << case_name);
  const auto golden = load_golden(case_name);
  VisionTransformer vit(small_options(pool));
  vit->eval();
  load_parameters(*vit, golden);  // also REQUIREs timm's state_dict names exactly
  auto in = inputs(golden);
  check_parity(*vit, vit(in.at("x")), golden, in);
}

TEST_CASE("resample_abs_pos_embed matches the reference's bilinear resampling",
          "[models][vision_transformer][golden]") {
  const auto golden = load_golden("vit_resample_pos_embed");
  auto in = inputs(golden);
  auto out = resample_abs_pos_embed(in.at("pos_embed"), {3, 3}, {2, 2}, 1);
  check_close(out, golden_value(golden, "output"), kOutputAtol, "resampled pos_embed");
  CHECK(torch::equal(out.slice(1, 0, 1), in.at("pos_embed").slice(1, 0, 1)));  // the class token's entry is kept
}

TEST_CASE("load_vit_state resamples pos_embed for another image size", "[models][vision_transformer]") {
  torch::manual_seed(7);
  VisionTransformer trained(small_options(GlobalPool::kToken));              // 8x8 images: a 2x2 grid
  VisionTransformer bigger(small_options(GlobalPool::kToken).img_size(12));  // a 3x3 grid
  std::map<std::string, torch::Tensor> state;
  for (const auto& p : trained->named_parameters()) state[p.key()] = p.value().detach().clone();
  load_vit_state(*bigger, state);
  CHECK(torch::equal(bigger->pos_embed, resample_abs_pos_embed(state["pos_embed"], {3, 3}, {2, 2})));
  CHECK(torch::equal(bigger->head->weight, state["head.weight"]));
  CHECK(bigger(torch::randn({2, 3, 12, 12})).sizes() == torch::IntArrayRef({2, 5}));

  state.erase("head.bias");
  REQUIRE_THROWS_WITH(load_vit_state(*bigger, state), Catch::Contains("the state has no 'head.bias'"));
  state["head.bias"] = torch::zeros({7});
  REQUIRE_THROWS_WITH(load_vit_state(*bigger, state),
                      Catch::Contains("'head.bias' has shape [7] in the state, [5] in the model"));
}

TEST_CASE("VisionTransformer presets and initialisation", "[models][vision_transformer]") {
  auto tiny = VisionTransformerOptions::preset("vit_tiny");
  CHECK(tiny.embed_dim() == 192);
  CHECK(tiny.depth() == 12);
  CHECK(tiny.num_heads() == 3);
  CHECK(tiny.num_patches() == 49);
  CHECK(VisionTransformerOptions::preset("vit_small").embed_dim() == 384);
  REQUIRE_THROWS_WITH(VisionTransformerOptions::preset("vit_huge"), Catch::Contains("unknown ViT preset 'vit_huge'"));

  torch::manual_seed(8);
  VisionTransformer vit(VisionTransformerOptions::preset("vit_mini"));
  CHECK(vit->pos_embed.sizes() == torch::IntArrayRef({1, 50, 128}));
  CHECK(vit->pos_embed.std().item<double>() == Approx(0.02).margin(0.002));
  CHECK(vit->cls_token.abs().max().item<double>() < 1e-4);
  auto* block = vit->blocks->ptr<torchzoo::layers::VitBlockImpl>(0).get();
  CHECK(block->attn->qkv->weight.std().item<double>() == Approx(0.02).margin(0.002));
  CHECK(torch::equal(block->attn->qkv->bias, torch::zeros({384})));
  CHECK(torch::equal(block->norm1->weight, torch::ones({128})));
  CHECK(vit(torch::randn({3, 1, 28, 28})).sizes() == torch::IntArrayRef({3, 10}));
}

TEST_CASE("VisionTransformer validates its options", "[models][vision_transformer][errors]") {
  REQUIRE_THROWS_WITH(VisionTransformer(VisionTransformerOptions().drop_path_rate(1.0)),
                      Catch::Contains("drop_path_rate must be in [0, 1), got 1"));
  REQUIRE_THROWS_WITH(VisionTransformer(VisionTransformerOptions().patch_size(5)),
                      Catch::Contains("img_size (28) must be a multiple of patch_size (5)"));
  REQUIRE_THROWS_WITH(global_pool_from_string("max"), Catch::Contains("unknown global pool 'max'"));
}
