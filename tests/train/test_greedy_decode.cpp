#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <limits>
#include <set>

#include "torchzoo/data/masks.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/tests/support/golden.h"
#include "torchzoo/train/decode/greedy_decode.h"
#include "torchzoo/train/decode/next_token_scorer.h"

using namespace torchzoo;
using testing::golden_value;

namespace {

/// The reference model of the greedy_decode case: make_model(11, 11, N=2, d_model=32, d_ff=64, h=4).
models::EncoderDecoder reference_model(const testing::Golden& golden) {
  models::EncoderDecoder model(
      models::EncoderDecoderOptions(11, 11).num_layers(2).d_model(32).d_ff(64).num_heads(4).dropout(0.0));
  testing::load_parameters(*model, golden);
  model->eval();
  return model;
}

}  // namespace

TEST_CASE("Batched greedy decoding equals the reference's one-sentence-at-a-time decoding", "[greedy][parity]") {
  auto golden = testing::load_golden("greedy_decode");
  auto model = reference_model(golden);
  const auto& src = golden_value(golden, "input.src");
  auto options = train::GreedyDecodeOptions(golden_value(golden, "input.max_len").item<int64_t>(),
                                            golden_value(golden, "input.start_symbol").item<int64_t>());
  for (bool fused : {true, false}) {
    for (bool use_cache : {true, false}) {
      INFO("fused attention " << fused << ", cache " << use_cache);
      for (auto& module : model->modules()) {
        if (auto* attention = module->as<layers::MultiHeadedAttentionImpl>()) attention->options.fused(fused);
      }
      auto tokens =
          train::greedy_decode(*model, src, golden_value(golden, "input.src_mask"), options.use_cache(use_cache));
      testing::check_close(tokens, golden_value(golden, "output"), 0, "tokens");
    }
  }
}

TEST_CASE("Greedy decoding pads rows after their end symbol and stops when all have ended", "[greedy]") {
  auto golden = testing::load_golden("greedy_decode");
  auto model = reference_model(golden);
  const auto& src = golden_value(golden, "input.src");
  const auto& mask = golden_value(golden, "input.src_mask");
  auto reference = golden_value(golden, "output");  // row 0: 1 5 8 2 5 1 5, row 1: 1 5 8 2 7 0 0
  // Token 2 appears in both rows at position 3: with end_symbol 2 both rows end there.
  auto tokens = train::greedy_decode(*model, src, mask, train::GreedyDecodeOptions(7, 1).end_symbol(2).pad(0));
  REQUIRE(tokens.size(1) == 4);
  CHECK(torch::equal(
      train::greedy_decode(*model, src, mask, train::GreedyDecodeOptions(7, 1).end_symbol(2).use_cache(false)),
      tokens));
  testing::check_close(tokens, reference.narrow(1, 0, 4), 0, "tokens up to the end symbol");
  // With end_symbol 7 only row 1 ends (position 4); what follows is padding.
  auto partly = train::greedy_decode(*model, src, mask, train::GreedyDecodeOptions(7, 1).end_symbol(7).pad(10));
  REQUIRE(partly.size(1) == 7);
  testing::check_close(partly[0], reference[0], 0, "row 0 never ends");
  REQUIRE(partly[1][4].item<int64_t>() == 7);
  REQUIRE(partly[1].narrow(0, 5, 2).eq(10).all().item<bool>());
}

TEST_CASE("Greedy decoding picks as torch.argmax: the first of tied logits, a NaN over any number", "[greedy]") {
  models::EncoderDecoder model(models::EncoderDecoderOptions(11, 11).num_layers(1).d_model(16).d_ff(32).num_heads(2));
  model->eval();
  auto src = torch::tensor({3, 4, 5, 6, 3, 4, 5, 7}, torch::kLong).view({2, 4});
  const auto options = train::GreedyDecodeOptions(5, 1);
  auto& generator = *model->generator->proj;
  torch::NoGradGuard no_grad;
  generator.weight.zero_();  // the logits are the bias, at every step
  generator.bias.copy_(torch::tensor({0.f, 1.f, 2.f, 3.f, 5.f, 4.f, 5.f, 5.f, -1.f, 0.5f, 2.f}));
  for (bool use_cache : {true, false}) {
    INFO("cache " << use_cache);
    auto tokens = train::greedy_decode(*model, src, data::padding_mask(src, 0),
                                       train::GreedyDecodeOptions(options).use_cache(use_cache));
    REQUIRE(tokens.narrow(1, 1, 4).eq(4).all().item<bool>());  // 5 at 4, 6 and 7: the first
  }
  generator.bias[9] = std::numeric_limits<float>::quiet_NaN();
  generator.bias[10] = std::numeric_limits<float>::quiet_NaN();
  auto tokens = train::greedy_decode(*model, src, data::padding_mask(src, 0), options);
  REQUIRE(tokens.narrow(1, 1, 4).eq(9).all().item<bool>());
  const auto aten = model->generator->logits(torch::zeros({8, 16})).argmax(-1).view({2, 4});
  REQUIRE(torch::equal(tokens.narrow(1, 1, 4), aten));
}

TEST_CASE("Greedy decoding rejects a bad max_len", "[greedy][errors]") {
  models::EncoderDecoder model(models::EncoderDecoderOptions(11, 11).num_layers(1).d_model(16).d_ff(16).num_heads(2));
  auto src = torch::ones({1, 3}, torch::kLong);
  REQUIRE_THROWS_WITH(train::greedy_decode(*model, src, data::padding_mask(src, 0), train::GreedyDecodeOptions(0, 1)),
                      Catch::Contains("max_len must be >= 1, got 0"));
}

namespace {

constexpr int64_t kGreedySrcVocab = 17;
constexpr int64_t kGreedyTgtVocab = 19;
constexpr int64_t kGreedyStart = 1;
constexpr int64_t kGreedyEnd = 2;

/// A random model whose generator is sharpened (weights x 4), so that its argmax is rarely a near tie.
models::EncoderDecoder random_greedy_model(bool norm_first, bool fused, uint64_t seed) {
  torch::manual_seed(seed);
  models::EncoderDecoder model(models::EncoderDecoderOptions(kGreedySrcVocab, kGreedyTgtVocab)
                                   .num_layers(2)
                                   .d_model(32)
                                   .d_ff(64)
                                   .num_heads(4)
                                   .dropout(0.0)
                                   .norm_first(norm_first)
                                   .fused_attention(fused));
  torch::NoGradGuard no_grad;
  model->generator->proj->weight.mul_(4.0);
  model->eval();
  return model;
}

/// `batch` sources of random lengths in [2, max_len] (tokens 3 .. vocab - 1), padded with 0.
std::pair<torch::Tensor, torch::Tensor> random_greedy_sources(int64_t batch, int64_t max_len) {
  auto src = torch::randint(3, kGreedySrcVocab, {batch, max_len}, torch::kLong);
  auto lengths = torch::randint(2, max_len + 1, {batch, 1}, torch::kLong);
  lengths[0][0] = max_len;  // the longest row has no padding
  src.masked_fill_(torch::arange(max_len).unsqueeze(0).ge(lengths), 0);
  return {src, data::padding_mask(src, 0)};
}

}  // namespace

TEST_CASE("Cached greedy decoding equals re-decoding the prefix", "[greedy][incremental]") {
  const bool norm_first = GENERATE(true, false);
  const bool fused = GENERATE(true, false);
  INFO((norm_first ? "pre" : "post") << "-norm, " << (fused ? "fused" : "math") << " attention");
  auto model = random_greedy_model(norm_first, fused, 30 + 2 * norm_first + fused);
  auto [src, src_mask] = random_greedy_sources(8, 9);
  auto options = train::GreedyDecodeOptions(12, kGreedyStart).end_symbol(kGreedyEnd);
  auto cached = train::greedy_decode(*model, src, src_mask, options);
  auto uncached = train::greedy_decode(*model, src, src_mask, options.use_cache(false));
  testing::check_close(cached, uncached, 0, "tokens");

  // Every step's log-probabilities, fed the same tokens.
  torch::NoGradGuard no_grad;
  auto memory = model->encode(src, src_mask);
  train::NextTokenScorer with_cache(*model, memory, src_mask, true);
  train::NextTokenScorer without_cache(*model, memory, src_mask, false);
  for (int64_t t = 0; t + 1 < cached.size(1); ++t) {
    INFO("step " << t);
    const auto tokens = cached.narrow(1, t, 1);
    testing::check_close(with_cache.next(tokens), without_cache.next(tokens), 1e-5, "log-probabilities");
  }
  CHECK(with_cache.length() == cached.size(1) - 1);
}

TEST_CASE("Greedy decoding that drops ended rows from the batch equals decoding each row alone", "[greedy]") {
  torch::manual_seed(21);
  models::EncoderDecoder model(
      models::EncoderDecoderOptions(11, 11).num_layers(2).d_model(32).d_ff(64).num_heads(4).dropout(0.0));
  model->eval();
  {
    torch::NoGradGuard no_grad;  // larger weights: outputs that depend on the source more than at initialisation
    for (auto& p : model->parameters()) p.mul_(4.0);
  }
  const auto src = torch::randint(1, 11, {12, 7}, torch::kLong);
  auto mask = torch::ones({12, 1, 7}, torch::kBool);
  mask.narrow(0, 0, 4).narrow(2, 5, 2).fill_(false);  // rows 0-3 padded
  // The end symbol: the token the rows emit most often without one, so that they end at different steps.
  const auto free_run = train::greedy_decode(*model, src, mask, train::GreedyDecodeOptions(12, 1));
  const int64_t end = std::get<0>(torch::mode(free_run.narrow(1, 1, 11).flatten())).item<int64_t>();
  const auto options = train::GreedyDecodeOptions(12, 1).end_symbol(end).pad(0);
  const auto batched = train::greedy_decode(*model, src, mask, options);
  std::set<int64_t> end_steps;
  for (int64_t r = 0; r < 12; ++r) {
    INFO("row " << r);
    const auto alone = train::greedy_decode(*model, src.narrow(0, r, 1), mask.narrow(0, r, 1), options);
    CHECK(torch::equal(batched[r].narrow(0, 0, alone.size(1)), alone[0]));
    CHECK(batched[r].narrow(0, alone.size(1), batched.size(1) - alone.size(1)).eq(0).all().item<bool>());
    end_steps.insert(alone.size(1));
  }
  CHECK(end_steps.size() >= 3);  // rows left the batch at several steps
}
