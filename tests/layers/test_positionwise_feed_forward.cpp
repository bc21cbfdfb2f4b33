#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/layers/dropout.h"
#include "torchzoo/layers/positionwise_feed_forward.h"
#include "../support/golden.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

TEST_CASE("PositionwiseFeedForward matches the reference", "[layers][positionwise_feed_forward][golden]") {
  const auto activation = GENERATE(Activation::kRelu, Activation::kGelu);
  const auto case_name =
      activation == Activation::kRelu ? "positionwise_feed_forward" : "positionwise_feed_forward_gelu";
  INFO("case " << case_name);
  const auto golden = load_golden(case_name);
  PositionwiseFeedForward ff(PositionwiseFeedForwardOptions(kDModel, kDff).activation(activation));
  ff->eval();
  load_parameters(*ff, golden);
  auto in = inputs(golden);
  check_parity(*ff, ff(in.at("x")), golden, in);
}

TEST_CASE("PositionwiseFeedForward relu and gelu differ", "[layers][positionwise_feed_forward]") {
  // Guards against the activation option being ignored (the golden cases would then disagree only slightly).
  torch::manual_seed(6);
  PositionwiseFeedForward relu(PositionwiseFeedForwardOptions(kDModel, kDff));
  auto gelu = std::dynamic_pointer_cast<PositionwiseFeedForwardImpl>(relu->clone());
  gelu->options.activation(Activation::kGelu);
  relu->eval();
  gelu->eval();
  auto x = torch::randn({kBatch, 3, kDModel});
  CHECK(max_abs_diff(relu(x), gelu->forward(x)) > 1e-3);
}

TEST_CASE("Activation names round-trip", "[layers][activation]") {
  CHECK(activation_from_string("relu") == Activation::kRelu);
  CHECK(activation_from_string("gelu") == Activation::kGelu);
  CHECK(to_string(Activation::kGelu) == "gelu");
  REQUIRE_THROWS_WITH(activation_from_string("swish"),
                      Catch::Contains("unknown activation 'swish'; expected one of: relu, gelu"));
}

TEST_CASE("PositionwiseFeedForward validates options and input", "[layers][positionwise_feed_forward][errors]") {
  REQUIRE_THROWS_WITH(PositionwiseFeedForward(PositionwiseFeedForwardOptions(kDModel, 0)),
                      Catch::Contains("d_model and d_ff must be positive"));
  REQUIRE_THROWS_WITH(PositionwiseFeedForward(PositionwiseFeedForwardOptions(kDModel, kDff).dropout(-0.1)),
                      Catch::Contains("dropout must be in [0, 1)"));
  PositionwiseFeedForward ff(PositionwiseFeedForwardOptions(kDModel, kDff));
  REQUIRE_THROWS_WITH(ff(torch::randn({kBatch, 3, kDff})),
                      Catch::Contains("PositionwiseFeedForward: expected input of shape [..., 16], got [2, 3, 32]"));
}

TEST_CASE("PositionwiseFeedForward in training drops hidden units after the activation",
          "[layers][positionwise_feed_forward]") {
  for (const auto activation : {Activation::kRelu, Activation::kGelu}) {
    PositionwiseFeedForward ff(PositionwiseFeedForwardOptions(kDModel, kDff).dropout(0.5).activation(activation));
    ff->train();
    const auto x = torch::randn({kBatch, 5, kDModel});
    torch::manual_seed(21);
    const auto got = ff(x);
    // The same draws by hand: dropout of the activated hidden layer, then w_2.
    torch::manual_seed(21);
    auto hidden = torch::nn::functional::linear(x, ff->w_1->weight, ff->w_1->bias);
    hidden = activation == Activation::kRelu ? torch::relu(hidden) : torch::gelu(hidden);
    const auto want = torch::nn::functional::linear(fused_dropout(hidden, 0.5, true), ff->w_2->weight, ff->w_2->bias);
    check_close(got, want, 1e-5, "feed-forward in training");
    ff->eval();
    CHECK(max_abs_diff(ff(x), got) > 1e-3);  // dropout was on
  }
}
