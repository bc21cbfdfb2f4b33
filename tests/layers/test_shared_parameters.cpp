#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "../support/golden.h"
#include "torchzoo/layers/shared_parameters.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

namespace {

// Two linears whose weights are tied by the parent.
struct TwoLinearsImpl : torch::nn::Module {
  TwoLinearsImpl() {
    first = register_module("first", torch::nn::Linear(4, 3));
    second = register_module("second", torch::nn::Linear(4, 3));
    share_parameter(*second, "weight", second->weight, first->weight);
  }
  torch::nn::Linear first{nullptr}, second{nullptr};
};
TORCH_MODULE(TwoLinears);

}  // namespace

TEST_CASE("share_parameter registers one tensor under both names", "[layers][shared_parameters]") {
  TwoLinears model;
  auto params = model->named_parameters();
  REQUIRE(params.size() == 4);  // LibTorch lists the shared weight under each name
  CHECK(params["first.weight"].is_same(params["second.weight"]));
  CHECK(model->second->weight.is_same(model->first->weight));
  CHECK_FALSE(params["first.bias"].is_same(params["second.bias"]));

  const auto unique = unique_named_parameters(*model);
  REQUIRE(unique.size() == 3);
  CHECK(unique[0].first == "first.weight");
  CHECK(unique[1].first == "first.bias");
  CHECK(unique[2].first == "second.bias");
  CHECK(unique_parameters(*model).size() == 3);

  // One gradient, summed over both uses.
  auto x = torch::randn({2, 4});
  (model->first(x).sum() + 2 * model->second(x).sum()).backward();
  check_close(model->first->weight.grad(), 3 * x.sum(0).expand({3, 4}), 1e-5, "summed gradient");
}

TEST_CASE("share_parameter validates the name, shape and member", "[layers][shared_parameters][errors]") {
  torch::nn::Linear a(4, 3), b(4, 3), wide(5, 3);
  REQUIRE_THROWS_WITH(share_parameter(*b, "kernel", b->weight, a->weight),
                      Catch::Contains("has no parameter 'kernel' (it has: weight, bias)"));
  REQUIRE_THROWS_WITH(share_parameter(*wide, "weight", wide->weight, a->weight),
                      Catch::Contains("has shape [3, 5], the shared tensor [3, 4]"));
  REQUIRE_THROWS_WITH(share_parameter(*b, "weight", b->bias, a->weight),
                      Catch::Contains("`member` is not the field holding parameter 'weight'"));
}
