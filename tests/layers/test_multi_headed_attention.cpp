#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "../support/golden.h"
#include "torchzoo/common/check.h"
#include "torchzoo/layers/detail/one_query_attention.h"
#include "torchzoo/layers/multi_headed_attention.h"

using namespace torchzoo::layers;
using namespace torchzoo::testing;

namespace {

enum class Path { kFused, kMath, kKeepWeights };

const char* name(Path path) {
  switch (path) {
    case Path::kFused:
      return "fused";
    case Path::kMath:
      return "math";
    default:
      return "math, weights kept";
  }
}

MultiHeadedAttentionOptions options_for(Path path) {
  // Attention dropout as in make_model (0.1): eval mode must switch it off on both paths.
  return MultiHeadedAttentionOptions(kDModel, kHeads)
      .dropout(0.1)
      .fused(path == Path::kFused)
      .keep_attention_weights(path == Path::kKeepWeights);
}

// Rows of the kept weights sum to 1 and put ~0 weight where the mask is false.
void check_attention_weights(const MultiHeadedAttention& attn, const torch::Tensor& mask, int64_t t_q, int64_t t_k) {
  const auto& weights = attn->attention_weights();
  REQUIRE(weights.defined());
  REQUIRE(weights.sizes() == torch::IntArrayRef({kBatch, kHeads, t_q, t_k}));
  check_close(weights.sum(-1), torch::ones({kBatch, kHeads, t_q}), 1e-5, "attention row sums");
  const auto masked = mask.logical_not().unsqueeze(1).expand_as(weights);  // [B, h, T_q, T_k]
  REQUIRE(masked.any().item<bool>());                                      // the cases do mask something
  CHECK(weights.masked_select(masked).abs().max().item<double>() < 1e-6);
  CHECK(weights.masked_select(masked.logical_not()).min().item<double>() > 0.0);
}

}  // namespace

TEST_CASE("MultiHeadedAttention matches the annotated reference", "[layers][multi_headed_attention][golden]") {
  const auto case_name = GENERATE(as<std::string>{}, "multi_headed_attention_self", "multi_headed_attention_cross",
                                  "multi_headed_attention_causal");
  const auto path = GENERATE(Path::kFused, Path::kMath, Path::kKeepWeights);
  INFO("case " << case_name << ", " << name(path) << " path");

  const auto golden = load_golden(case_name);
  MultiHeadedAttention attn(options_for(path));
  attn->eval();
  load_parameters(*attn, golden);
  auto in = inputs(golden);
  auto out = attn(in.at("query"), in.at("key"), in.at("value"), in.at("mask"));
  check_parity(*attn, out, golden, in);

  if (path == Path::kKeepWeights) {
    check_attention_weights(attn, in.at("mask"), in.at("query").size(1), in.at("key").size(1));
  } else {
    CHECK_FALSE(attn->attention_weights().defined());
  }
}

TEST_CASE("MultiHeadedAttention fused and math paths agree without a mask and with a broadcast mask",
          "[layers][multi_headed_attention]") {
  torch::manual_seed(4);
  MultiHeadedAttention fused(options_for(Path::kFused));
  auto math = std::dynamic_pointer_cast<MultiHeadedAttentionImpl>(fused->clone());
  math->options.fused(false);
  fused->eval();
  math->eval();
  auto q = torch::randn({kBatch, 3, kDModel});
  auto kv = torch::randn({kBatch, 7, kDModel});
  check_close(fused(q, kv, kv), math->forward(q, kv, kv), 1e-5, "no mask");

  auto mask = torch::tensor({true, true, false, true, false, true, true}).view({1, 1, 7});  // [1, 1, T_k]
  auto masked = fused(q, kv, kv, mask);
  check_close(masked, math->forward(q, kv, kv, mask), 1e-5, "broadcast mask");
  CHECK(max_abs_diff(masked, fused(q, kv, kv)) > 1e-4);  // the mask does change the result
}

TEST_CASE("MultiHeadedAttention applies attention dropout only in training mode", "[layers][multi_headed_attention]") {
  const auto path = GENERATE(Path::kFused, Path::kMath);
  INFO(name(path) << " path");
  torch::manual_seed(5);
  MultiHeadedAttention attn(options_for(path).dropout(0.5));
  auto x = torch::randn({kBatch, 6, kDModel});
  attn->eval();
  auto reference = attn(x, x, x);
  CHECK(torch::equal(attn(x, x, x), reference));
  attn->train();
  CHECK(max_abs_diff(attn(x, x, x), reference) > 1e-3);
}

TEST_CASE("MultiHeadedAttention keeps the reference parameter names", "[layers][multi_headed_attention]") {
  MultiHeadedAttention attn(MultiHeadedAttentionOptions(kDModel, kHeads));
  std::set<std::string> names;
  for (const auto& item : attn->named_parameters()) names.insert(item.key());
  std::set<std::string> expected;
  for (int i = 0; i < 4; ++i) {
    expected.insert("linears." + std::to_string(i) + ".weight");
    expected.insert("linears." + std::to_string(i) + ".bias");
  }
  CHECK(names == expected);

  MultiHeadedAttention no_bias(MultiHeadedAttentionOptions(kDModel, kHeads).bias(false));
  CHECK(no_bias->named_parameters().size() == 4);
}

TEST_CASE("MultiHeadedAttention output shape follows the query", "[layers][multi_headed_attention]") {
  MultiHeadedAttention attn(MultiHeadedAttentionOptions(kDModel, kHeads));
  attn->eval();
  auto out = attn(torch::randn({3, 2, kDModel}), torch::randn({3, 9, kDModel}), torch::randn({3, 9, kDModel}),
                  torch::ones({3, 2, 9}, torch::kBool));
  CHECK(out.sizes() == torch::IntArrayRef({3, 2, kDModel}));
}

TEST_CASE("MultiHeadedAttention validates options and inputs", "[layers][multi_headed_attention][errors]") {
  REQUIRE_THROWS_WITH(MultiHeadedAttention(MultiHeadedAttentionOptions(10, 4)),
                      Catch::Contains("MultiHeadedAttention: d_model (10) must be divisible by num_heads (4)"));
  REQUIRE_THROWS_WITH(MultiHeadedAttention(MultiHeadedAttentionOptions(16, 0)),
                      Catch::Contains("d_model and num_heads must be positive"));
  REQUIRE_THROWS_WITH(MultiHeadedAttention(MultiHeadedAttentionOptions(16, 4).dropout(1.5)),
                      Catch::Contains("dropout must be in [0, 1), got 1.5"));

  MultiHeadedAttention attn(MultiHeadedAttentionOptions(kDModel, kHeads));
  auto x = torch::randn({kBatch, 5, kDModel});
  REQUIRE_THROWS_WITH(attn(torch::randn({kBatch, 5, 8}), x, x),
                      Catch::Contains("MultiHeadedAttention: expected query of shape [B, T, 16], got [2, 5, 8]"));
  REQUIRE_THROWS_WITH(attn(x, torch::randn({kBatch, 5}), x), Catch::Contains("expected key of shape [B, T, 16]"));
  REQUIRE_THROWS_WITH(attn(x, x, torch::randn({kBatch, 4, kDModel})), Catch::Contains("must share the batch size"));
  REQUIRE_THROWS_WITH(attn(x, x, x, torch::ones({kBatch, 1, 4}, torch::kBool)),
                      Catch::Contains("expected mask of shape [2 or 1, 5 or 1, 5], got [2, 1, 4]"));
  REQUIRE_THROWS_WITH(attn(x, x, x, torch::ones({kBatch, 5}, torch::kBool)), Catch::Contains("expected mask of shape"));
  REQUIRE_THROWS_WITH(attn(x, x, x, torch::ones({kBatch, 1, 5}, torch::kFloat)),
                      Catch::Contains("MultiHeadedAttention: expected a bool mask (true = may attend), got Float"));
}

TEST_CASE("MultiHeadedAttention attend over projected keys and values equals forward",
          "[layers][multi_headed_attention][incremental]") {
  const auto path = GENERATE(Path::kFused, Path::kMath);
  INFO(name(path) << " path");
  torch::manual_seed(6);
  MultiHeadedAttention attn(options_for(path));
  attn->eval();
  auto q = torch::randn({kBatch, 3, kDModel});
  auto kv = torch::randn({kBatch, 7, kDModel});
  auto mask = torch::ones({kBatch, 1, 7}, torch::kBool);
  mask[1].narrow(1, 5, 2).fill_(false);  // row 1: two padded keys
  const auto projected = attn->project_key_value(kv, kv);
  CHECK(projected.key.sizes() == torch::IntArrayRef({kBatch, kHeads, 7, kDModel / kHeads}));
  CHECK(projected.length() == 7);
  check_close(attn->attend(q, projected, mask), attn(q, kv, kv, mask), 1e-6, "attend(project_key_value)");

  // Keys and values projected in pieces and appended are those projected at once.
  const auto pieces = attn->project_key_value(kv.narrow(1, 0, 4), kv.narrow(1, 0, 4))
                          .append(attn->project_key_value(kv.narrow(1, 4, 3), kv.narrow(1, 4, 3)));
  check_close(pieces.key, projected.key, 1e-6, "appended keys");
  check_close(pieces.value, projected.value, 1e-6, "appended values");
  CHECK(KeyValue{}.append(projected).length() == 7);

  // Rows selected from the projections: the attention of the selected rows.
  const auto rows = torch::tensor({1, 1, 0}, torch::kLong);
  check_close(attn->attend(q.index_select(0, rows), projected.index_select(rows), mask.index_select(0, rows)),
              attn(q, kv, kv, mask).index_select(0, rows), 1e-6, "selected rows");
}

TEST_CASE("KeyValue extends in place, and copies never see each other's positions",
          "[layers][multi_headed_attention][incremental]") {
  torch::manual_seed(8);
  const auto k = torch::randn({kBatch, kHeads, 40, 4});
  const auto v = torch::randn({kBatch, kHeads, 40, 4});
  KeyValue cache;
  for (int64_t t = 0; t < 40; t += 2) cache.extend({k.narrow(2, t, 2), v.narrow(2, t, 2)});  // past the room of 16
  CHECK(torch::equal(cache.key, k));
  CHECK(torch::equal(cache.value, v));
  // Two copies of a 20-position cache each extend with their own positions.
  KeyValue a;
  a.extend({k.narrow(2, 0, 20), v.narrow(2, 0, 20)});
  KeyValue b = a;
  a.extend({k.narrow(2, 20, 1), v.narrow(2, 20, 1)});
  b.extend({v.narrow(2, 30, 1), k.narrow(2, 30, 1)});
  CHECK(torch::equal(a.key, k.narrow(2, 0, 21)));
  CHECK(torch::equal(b.key.narrow(2, 0, 20), k.narrow(2, 0, 20)));
  CHECK(torch::equal(b.key.narrow(2, 20, 1), v.narrow(2, 30, 1)));
  // Selected rows keep their room and extend on.
  auto rows = a.index_select(torch::tensor({1, 0}, torch::kLong));
  rows.extend({k.narrow(2, 21, 1).flip(0), v.narrow(2, 21, 1).flip(0)});
  CHECK(torch::equal(rows.key, k.narrow(2, 0, 22).flip(0)));
  CHECK(torch::equal(a.key, k.narrow(2, 0, 21)));
  REQUIRE_THROWS_WITH(a.extend({k.narrow(0, 0, 1), v.narrow(0, 0, 1)}),
                      Catch::Contains("cannot extend keys and values of shape [2, 4, 21, 4] with [1, 4, 40, 4]"));
}

TEST_CASE("MultiHeadedAttention attend_self equals forward under a subsequent mask, with and without gradients",
          "[layers][multi_headed_attention][incremental]") {
  const auto path = GENERATE(Path::kFused, Path::kMath);
  const bool grad = GENERATE(true, false);
  INFO(name(path) << " path, " << (grad ? "with" : "without") << " gradients");
  torch::manual_seed(9);
  MultiHeadedAttention attn(options_for(path));
  attn->eval();
  auto x = torch::randn({kBatch, 6, kDModel});
  const auto causal = torch::ones({1, 6, 6}, torch::kBool).tril();
  torch::AutoGradMode mode(grad);
  for (int round = 0; round < 2; ++round) {
    const auto whole = attn(x, x, x, causal);
    KeyValue cache;
    for (int64_t t = 0; t < 6; ++t) {
      check_close(attn->attend_self(x.narrow(1, t, 1), cache), whole.narrow(1, t, 1), 1e-5, "step");
    }
    // The fused projections follow an in-place change of the weights (their version counters).
    torch::NoGradGuard no_grad;
    for (auto& p : attn->parameters()) p.mul_(1.5);
  }
}

TEST_CASE("MultiHeadedAttention attend validates the projected keys and values",
          "[layers][multi_headed_attention][incremental][errors]") {
  MultiHeadedAttention attn(MultiHeadedAttentionOptions(kDModel, kHeads));
  auto x = torch::randn({kBatch, 5, kDModel});
  const auto projected = attn->project_key_value(x, x);
  REQUIRE_THROWS_WITH(attn->attend(x, KeyValue{}), Catch::Contains("expected projected key and value of shape "
                                                                   "[2, 4, T_k, 4], got undefined"));
  REQUIRE_THROWS_WITH(attn->attend(x.narrow(0, 0, 1), projected),
                      Catch::Contains("expected projected key and value of shape [1, 4, T_k, 4], got [2, 4, 5, 4]"));
  REQUIRE_THROWS_WITH(attn->attend(x, projected, torch::ones({kBatch, 1, 4}, torch::kBool)),
                      Catch::Contains("expected mask of shape [2 or 1, 5 or 1, 5], got [2, 1, 4]"));
  REQUIRE_THROWS_WITH(attn->project_key_value(x, x.narrow(1, 0, 2)),
                      Catch::Contains("expected key and value of shape [B, T, 16], got [2, 5, 16] and [2, 2, 16]"));
}

TEST_CASE("MultiHeadedAttention's fused and math paths draw the same attention dropout on the CPU",
          "[layers][multi_headed_attention]") {
  // SDPA's CPU kernels have no dropout; both paths take the math with layers::fused_dropout.
  torch::manual_seed(6);
  MultiHeadedAttention fused(options_for(Path::kFused).dropout(0.3));
  auto math = std::dynamic_pointer_cast<MultiHeadedAttentionImpl>(fused->clone());
  math->options.fused(false);
  fused->train();
  math->train();
  const auto x = torch::randn({kBatch, 6, kDModel});
  torch::manual_seed(7);
  const auto a = fused(x, x, x);
  torch::manual_seed(7);
  const auto b = math->forward(x, x, x);
  check_close(a, b, 1e-6, "training with dropout");
}

TEST_CASE("One query position attends as at::scaled_dot_product_attention, over a strided cache and masks",
          "[layers][multi_headed_attention][incremental]") {
  torch::manual_seed(12);
  torch::NoGradGuard no_grad;
  const auto q = torch::randn({3, 4, 1, 16});
  const auto room = torch::randn({3, 4, 40, 16});  // keys and values in a cache's room: strided on T
  const auto k = room.narrow(2, 0, 23);
  const auto v = torch::randn({3, 4, 40, 16}).narrow(2, 0, 23);
  auto mask = torch::rand({3, 1, 1, 23}) > 0.3;
  mask.select(3, 0).fill_(true);  // every row may attend somewhere
  for (const auto& m : {torch::Tensor(), mask, mask.narrow(0, 1, 1)}) {
    INFO((m.defined() ? "mask " + torchzoo::detail::shape_str(m.sizes()) : std::string("no mask")));
    REQUIRE(torchzoo::detail::one_query_attention_applies(q, k, v, m));
    const auto reference_mask = m.defined() ? std::optional(m) : std::nullopt;
    const auto expected = at::scaled_dot_product_attention(q, k.contiguous(), v.contiguous(), reference_mask);
    check_close(torchzoo::detail::one_query_attention(q, k, v, m), expected, 1e-5, "attention");
  }
  // two query positions
  CHECK_FALSE(torchzoo::detail::one_query_attention_applies(torch::randn({3, 4, 2, 16}), k, v, {}));
  torch::AutoGradMode with_grad(true);
  CHECK_FALSE(torchzoo::detail::one_query_attention_applies(q, k, v, {}));  // gradients take SDPA
}
