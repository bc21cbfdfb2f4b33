#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/layers/mlp.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("Mlp matches the timm-structured reference", "[layers][mlp][golden]") {
  const auto golden = load_golden("vit_mlp");
  Mlp mlp(MlpOptions(kDModel, kDff));
  mlp->eval();
  load_parameters(*mlp, golden);
  auto in = inputs(golden);
  check_parity(*mlp, mlp(in.at("x")), golden, in);
}

TEST_CASE("Mlp validates options and input", "[layers][mlp][errors]") {
  REQUIRE_THROWS_WITH(Mlp(MlpOptions(16, 0)), Catch::Contains("must be positive"));
  REQUIRE_THROWS_WITH(Mlp(MlpOptions(16, 32).drop(1.5)), Catch::Contains("drop must be in [0, 1), got 1.5"));
  Mlp mlp(MlpOptions(16, 32).out_features(8));
  CHECK(mlp(torch::randn({2, 3, 16})).sizes() == torch::IntArrayRef({2, 3, 8}));
  REQUIRE_THROWS_WITH(mlp(torch::randn({2, 3, 8})),
                      Catch::Contains("Mlp: expected x of shape [..., 16], got [2, 3, 8]"));
}
