#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <set>

#include "torchzoo/models/decoder_only_lm.h"
#include "torchzoo/train/decode/lm_generation.h"
#include "torchzoo/train/decode/sampling.h"

using namespace torchzoo;
using train::SamplingOptions;

namespace {

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

/// Draws `n` tokens for each row of `scores` [B, V]; returns [n, B].
torch::Tensor draws(const torch::Tensor& scores, const SamplingOptions& options, int64_t n, uint64_t seed) {
  auto generator = seeded(seed);
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(train::choose_next(scores, options, generator));
  return torch::stack(out);
}

}  // namespace

TEST_CASE("Top-k sampling never emits a token outside the k best", "[sampling]") {
  torch::manual_seed(0);
  auto scores = torch::randn({4, 50}) * 3;
  const int64_t k = GENERATE(1, 5, 20);
  INFO("k = " << k);
  auto top = std::get<1>(scores.topk(k, 1));                        // [4, k]
  auto tokens = draws(scores, SamplingOptions().top_k(k), 400, 1);  // [400, 4]
  for (int64_t b = 0; b < 4; ++b) {
    auto allowed = top[b];
    auto drawn = tokens.select(1, b);
    CHECK(torch::isin(drawn, allowed).all().item<bool>());
    if (k > 1) CHECK(std::get<0>(at::_unique(drawn)).numel() > 1);  // it does sample
  }
}

TEST_CASE("Top-p sampling keeps to the nucleus and follows its renormalised probabilities", "[sampling]") {
  auto scores = torch::tensor({0.5, 0.3, 0.15, 0.05}).log().unsqueeze(0);  // [1, 4]
  // Nucleus of 0.6: {0, 1} (0.5 alone falls short); of 0.9: {0, 1, 2}.
  auto small = draws(scores, SamplingOptions().top_p(0.6), 3000, 2);
  CHECK(small.lt(2).all().item<bool>());
  const double share0 = small.eq(0).to(torch::kDouble).mean().item<double>();
  CHECK(share0 == Approx(0.5 / 0.8).margin(0.03));
  auto large = draws(scores, SamplingOptions().top_p(0.9), 3000, 3);
  CHECK(large.lt(3).all().item<bool>());
  CHECK(large.eq(2).any().item<bool>());
  // The most probable token stays even when alone it exceeds top_p.
  auto tiny = draws(scores, SamplingOptions().top_p(0.1), 100, 4);
  CHECK(tiny.eq(0).all().item<bool>());
  // filter_scores: top-k then top-p.
  auto filtered = train::filter_scores(scores, SamplingOptions().top_k(3).top_p(0.9));
  CHECK(torch::isinf(filtered).to(torch::kLong).sum().item<int64_t>() == 1);
}

TEST_CASE("Temperature sharpens or flattens, and 0 is greedy", "[sampling]") {
  auto scores = torch::tensor({1.0, 0.0, -1.0}).unsqueeze(0);
  CHECK(draws(scores, SamplingOptions().temperature(0.0), 20, 5).eq(0).all().item<bool>());
  const double cold =
      draws(scores, SamplingOptions().temperature(0.25), 2000, 6).eq(0).to(torch::kDouble).mean().item<double>();
  const double hot =
      draws(scores, SamplingOptions().temperature(4.0), 2000, 6).eq(0).to(torch::kDouble).mean().item<double>();
  const double expected_cold = std::exp(4.0) / (std::exp(4.0) + 1.0 + std::exp(-4.0));
  const double expected_hot = std::exp(0.25) / (std::exp(0.25) + 1.0 + std::exp(-0.25));
  CHECK(cold == Approx(expected_cold).margin(0.02));
  CHECK(hot == Approx(expected_hot).margin(0.03));
  CHECK_THROWS_WITH(train::filter_scores(scores, SamplingOptions().top_p(0.0)),
                    Catch::Contains("top_p must be in (0, 1]"));
  CHECK_THROWS_WITH(train::filter_scores(scores, SamplingOptions().temperature(-1)),
                    Catch::Contains("temperature must be >= 0"));
}

TEST_CASE("Generation: same seed same tokens, cached equals uncached, the end symbol stops it", "[sampling][lm]") {
  torch::manual_seed(3);
  models::DecoderOnlyLM lm(
      models::DecoderOnlyLMOptions(11).num_layers(2).d_model(16).d_ff(32).num_heads(4).max_len(64));
  const std::vector<int64_t> prompt = {1, 4, 6};
  auto options = train::GenerateOptions().max_tokens(30).sampling(SamplingOptions().top_k(5)).seed(9);
  const auto a = train::generate(*lm, prompt, options);
  const auto b = train::generate(*lm, prompt, options);
  const auto other_seed = train::generate(*lm, prompt, train::GenerateOptions(options).seed(10));
  const auto uncached = train::generate(*lm, prompt, train::GenerateOptions(options).use_cache(false));
  REQUIRE(a.size() == 30);
  CHECK(a == b);
  CHECK(a == uncached);
  CHECK(a != other_seed);
  const auto greedy =
      train::generate(*lm, prompt, train::GenerateOptions(options).sampling(SamplingOptions().temperature(0)));
  CHECK(greedy ==
        train::generate(*lm, prompt,
                        train::GenerateOptions(options).sampling(SamplingOptions().temperature(0)).use_cache(false)));
  // Stopping: the first occurrence of a token chosen as end symbol ends the output, and is its last token.
  const auto end = a[10];
  const auto stopped = train::generate(*lm, prompt, train::GenerateOptions(options).end_symbol(end));
  REQUIRE(!stopped.empty());
  CHECK(stopped.back() == end);
  CHECK(std::vector<int64_t>(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(stopped.size())) == stopped);
  CHECK_THROWS_WITH(train::generate(*lm, prompt, train::GenerateOptions().max_tokens(62)),
                    Catch::Contains("3 prompt tokens + max_tokens 62 exceed the model's max_len 64"));
}
