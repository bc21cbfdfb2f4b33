#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>

#include "torchzoo/layers/embeddings.h"
#include "../support/golden.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("Embeddings match the reference", "[layers][embeddings][golden]") {
  const auto golden = load_golden("embeddings");
  Embeddings embed(EmbeddingsOptions(kDModel, kVocab));
  embed->eval();
  load_parameters(*embed, golden);
  auto in = inputs(golden);
  check_parity(*embed, embed(in.at("tokens")), golden, in);
}

TEST_CASE("Embeddings scale the lookup by sqrt(d_model)", "[layers][embeddings]") {
  Embeddings embed(EmbeddingsOptions(4, 5));
  auto tokens = torch::tensor({3, 0, 4}, torch::kLong).view({1, 3});
  auto out = embed(tokens);
  REQUIRE(out.sizes() == torch::IntArrayRef({1, 3, 4}));
  check_close(out[0][0], embed->lut->weight[3] * 2.0, 1e-6, "token 3");
  check_close(out[0][2], embed->lut->weight[4] * 2.0, 1e-6, "token 4");
  CHECK(embed->named_parameters().contains("lut.weight"));
}

TEST_CASE("Embeddings validate options and input", "[layers][embeddings][errors]") {
  REQUIRE_THROWS_WITH(Embeddings(EmbeddingsOptions(0, kVocab)), Catch::Contains("d_model and vocab must be positive"));
  Embeddings embed(EmbeddingsOptions(kDModel, kVocab));
  REQUIRE_THROWS_WITH(
      embed(torch::zeros({2, 3})),
      Catch::Contains("Embeddings: expected integer token ids of shape [B, T], got [2, 3] of type Float"));
  REQUIRE_THROWS_WITH(embed(torch::zeros({6}, torch::kLong)), Catch::Contains("got [6] of type Long"));
}
