#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/layers/sublayer_connection.h"
#include "../support/golden.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

namespace {

// A sublayer that is neither linear in x nor the identity, so that the order
// of norm, sublayer and residual sum shows in the result.
torch::Tensor sublayer_fn(const torch::Tensor& x) { return torch::tanh(x) * 2.0 + 0.3; }

SublayerConnection make(bool norm_first) {
  SublayerConnection connection(SublayerConnectionOptions(kDModel).dropout(0.5).norm_first(norm_first));
  torch::NoGradGuard no_grad;
  connection->norm->a_2.uniform_(0.5, 1.5);
  connection->norm->b_2.uniform_(-0.5, 0.5);
  return connection;
}

}  // namespace

TEST_CASE("Pre-norm SublayerConnection computes x + sublayer(norm(x))", "[layers][sublayer_connection]") {
  torch::manual_seed(1);
  auto connection = make(/*norm_first=*/true);
  connection->eval();
  auto x = torch::randn({kBatch, 3, kDModel});
  auto expected = x + sublayer_fn(connection->norm(x));
  check_close(connection(x, sublayer_fn), expected, 1e-6, "pre-norm");
  CHECK(max_abs_diff(connection(x, sublayer_fn), connection->norm(x + sublayer_fn(x))) > 1e-2);
}

TEST_CASE("Post-norm SublayerConnection computes norm(x + sublayer(x))", "[layers][sublayer_connection]") {
  torch::manual_seed(2);
  auto connection = make(/*norm_first=*/false);
  connection->eval();
  auto x = torch::randn({kBatch, 3, kDModel});
  auto expected = connection->norm(x + sublayer_fn(x));
  check_close(connection(x, sublayer_fn), expected, 1e-6, "post-norm");
  CHECK(max_abs_diff(connection(x, sublayer_fn), x + sublayer_fn(connection->norm(x))) > 1e-2);
}

TEST_CASE("SublayerConnection applies dropout only in training mode", "[layers][sublayer_connection]") {
  torch::manual_seed(3);
  auto connection = make(/*norm_first=*/true);
  auto x = torch::randn({kBatch, 3, kDModel});
  auto identity_branch = [](const torch::Tensor& y) { return torch::ones_like(y); };
  connection->train();
  // x + dropout(1): every branch element is 0 or 1 / (1 - p) = 2.
  auto branch = connection(x, identity_branch) - x;
  CHECK(((branch - 0.0).abs().lt(1e-6) | (branch - 2.0).abs().lt(1e-6)).all().item<bool>());
  CHECK(branch.lt(1e-6).any().item<bool>());
  connection->eval();
  check_close(connection(x, identity_branch), x + 1.0, 1e-6, "eval");
}

TEST_CASE("SublayerConnection validates dropout", "[layers][sublayer_connection][errors]") {
  REQUIRE_THROWS_WITH(SublayerConnection(SublayerConnectionOptions(8).dropout(1.0)),
                      Catch::Contains("SublayerConnection: dropout must be in [0, 1), got 1"));
}
