#include "torchzoo/configs/registry.h"

#include <catch2/catch.hpp>

#include <functional>
#include <stdexcept>
#include <string>

namespace {

using Catch::Contains;
using torchzoo::configs::Registry;
using Builder = std::function<int(int)>;

Registry<Builder> make_registry() {
  Registry<Builder> registry("model");
  registry.add("vit", [](int x) { return x + 1; }, "vision transformer");
  registry.add("transformer", [](int x) { return x * 2; });
  registry.add("bert", [](int x) { return -x; }, "encoder classifier");
  return registry;
}

}  // namespace

TEST_CASE("Registry looks up builders by name", "[configs]") {
  Registry<Builder> registry = make_registry();
  CHECK(registry.kind() == "model");
  CHECK(registry.get("vit")(1) == 2);
  CHECK(registry.get("transformer")(3) == 6);
  CHECK(registry.contains("bert"));
  CHECK_FALSE(registry.contains("gpt"));
  CHECK(registry.names() == std::vector<std::string>{"bert", "transformer", "vit"});
  CHECK(registry.help("vit") == "vision transformer");
  CHECK(registry.help("transformer").empty());
}

TEST_CASE("Registry rejects unknown names, listing the registered ones", "[configs]") {
  Registry<Builder> registry = make_registry();
  REQUIRE_THROWS_AS(registry.get("foo"), std::invalid_argument);
  REQUIRE_THROWS_WITH(registry.get("foo"), "unknown model 'foo'; registered models: bert, transformer, vit");
  REQUIRE_THROWS_WITH(registry.help("foo"), Contains("unknown model 'foo'"));
  Registry<Builder> empty("optimizer");
  REQUIRE_THROWS_WITH(empty.get("adam"), "unknown optimizer 'adam'; no optimizers are registered");
  CHECK(empty.names().empty());
}

TEST_CASE("Registry rejects duplicate and empty names", "[configs]") {
  Registry<Builder> registry = make_registry();
  REQUIRE_THROWS_AS(registry.add("vit", [](int x) { return x; }), std::invalid_argument);
  REQUIRE_THROWS_WITH(registry.add("vit", [](int x) { return x; }),
                      "duplicate model 'vit': it is already registered");
  CHECK(registry.get("vit")(1) == 2);  // the first registration stays
  REQUIRE_THROWS_WITH(registry.add("", [](int x) { return x; }),
                      Contains("cannot register a model with an empty name"));
}
