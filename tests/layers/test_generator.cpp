#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/layers/generator.h"
#include "../support/golden.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("Generator matches the reference", "[layers][generator][golden]") {
  const auto golden = load_golden("generator");
  Generator generator(GeneratorOptions(kDModel, kVocab));
  generator->eval();
  load_parameters(*generator, golden);
  auto in = inputs(golden);
  auto out = generator(in.at("x"));
  check_parity(*generator, out, golden, in);
  // Log-probabilities: each position's distribution sums to one.
  check_close(out.detach().exp().sum(-1), torch::ones({kBatch, 5}), 1e-5, "probability sums");
}

TEST_CASE("Generator validates options and input", "[layers][generator][errors]") {
  REQUIRE_THROWS_WITH(Generator(GeneratorOptions(kDModel, 0)), Catch::Contains("d_model and vocab must be positive"));
  Generator generator(GeneratorOptions(kDModel, kVocab));
  REQUIRE_THROWS_WITH(generator(torch::randn({kBatch, 5, 8})),
                      Catch::Contains("Generator: expected input of shape [..., 16], got [2, 5, 8]"));
}
