#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/layers/patch_embed.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("PatchEmbed matches the timm-structured reference", "[layers][patch_embed][golden]") {
  const auto golden = load_golden("vit_patch_embed");
  PatchEmbed embed(PatchEmbedOptions(/*img_size=*/8, /*patch_size=*/4, /*in_chans=*/3, /*embed_dim=*/16));
  embed->eval();
  load_parameters(*embed, golden);
  auto in = inputs(golden);
  check_parity(*embed, embed(in.at("x")), golden, in);
}

TEST_CASE("PatchEmbed orders patches row-major", "[layers][patch_embed]") {
  // With a kernel that sums its patch, token n must be the sum of patch (n / 2, n % 2).
  PatchEmbed embed(PatchEmbedOptions(4, 2, 1, 1).bias(false));
  {
    torch::NoGradGuard no_grad;
    embed->proj->weight.fill_(1.0);
  }
  auto image = torch::arange(16, torch::kFloat).view({1, 1, 4, 4});
  auto tokens = embed(image);  // [1, 4, 1]
  REQUIRE(tokens.sizes() == torch::IntArrayRef({1, 4, 1}));
  auto expected = torch::tensor({0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15}, torch::kFloat);
  CHECK(torch::equal(tokens.view(-1), expected));
  CHECK(PatchEmbedOptions(28, 4, 1, 192).num_patches() == 49);
}

TEST_CASE("PatchEmbed validates options and input", "[layers][patch_embed][errors]") {
  REQUIRE_THROWS_WITH(PatchEmbed(PatchEmbedOptions(28, 5, 1, 16)),
                      Catch::Contains("img_size (28) must be a multiple of patch_size (5)"));
  REQUIRE_THROWS_WITH(PatchEmbed(PatchEmbedOptions(28, 4, 0, 16)), Catch::Contains("must be positive"));
  PatchEmbed embed(PatchEmbedOptions(8, 4, 3, 16));
  REQUIRE_THROWS_WITH(embed(torch::randn({2, 1, 8, 8})),
                      Catch::Contains("PatchEmbed: expected images of shape [B, 3, 8, 8], got [2, 1, 8, 8]"));
}
