#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "../support/hang_guard.h"
#include "torchzoo/data/token_batches.h"

using namespace torchzoo::data;

namespace {

using Lengths = std::vector<std::pair<int64_t, int64_t>>;
using Batches = std::vector<std::vector<int64_t>>;

/// A tiny generator for the test cases; its stream is fixed, so every run sees the same cases.
struct TokenBatchesCaseRng {
  uint64_t state;
  uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  }
  int64_t in(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1)); }
};

int64_t token_batch_width(const Lengths& lengths, int64_t i) {
  return std::max<int64_t>({lengths[i].first, lengths[i].second, 1});
}

/// Rows * widest row of `rows`.
int64_t token_batch_cost(const Lengths& lengths, const std::vector<int64_t>& rows) {
  int64_t width = 0;
  for (auto i : rows) width = std::max(width, token_batch_width(lengths, i));
  return static_cast<int64_t>(rows.size()) * width;
}

bool token_batch_fits(const Lengths& lengths, const std::vector<int64_t>& rows, const TokenBatchOptions& options) {
  return token_batch_cost(lengths, rows) <= options.batch_tokens() &&
         (options.max_sentences() == 0 || static_cast<int64_t>(rows.size()) <= options.max_sentences());
}

/// Checks what holds for any options.
void check_token_batches(const Lengths& lengths, const Batches& batches, const TokenBatchOptions& options) {
  std::vector<int> seen(lengths.size(), 0);
  for (const auto& rows : batches) {
    REQUIRE_FALSE(rows.empty());
    REQUIRE(token_batch_fits(lengths, rows, options));
    for (size_t k = 0; k < rows.size(); ++k) {
      REQUIRE(rows[k] >= 0);
      REQUIRE(rows[k] < static_cast<int64_t>(lengths.size()));
      ++seen[rows[k]];
      if (k > 0) REQUIRE(lengths[rows[k - 1]] <= lengths[rows[k]]);  // (src, tgt) order within a batch
    }
  }
  REQUIRE(std::all_of(seen.begin(), seen.end(), [](int count) { return count == 1; }));

  // Batches are consecutive runs of the length order: sorted by their first row they chain up, and each
  // was cut only when the next example would not fit (greedy).
  Batches sorted = batches;
  std::sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) {
    return std::make_tuple(lengths[a.front()], lengths[a.back()], -static_cast<int64_t>(a.size())) <
           std::make_tuple(lengths[b.front()], lengths[b.back()], -static_cast<int64_t>(b.size()));
  });
  for (size_t b = 1; b < sorted.size(); ++b) {
    REQUIRE(lengths[sorted[b - 1].back()] <= lengths[sorted[b].front()]);
    auto grown = sorted[b - 1];
    grown.push_back(sorted[b].front());
    REQUIRE_FALSE(token_batch_fits(lengths, grown, options));
  }
}

Lengths random_lengths(TokenBatchesCaseRng& rng, int64_t count, int64_t max_len) {
  Lengths lengths;
  const bool correlated = rng.in(0, 1) == 1;  // translation pairs: tgt near src
  for (int64_t i = 0; i < count; ++i) {
    const int64_t src = rng.in(0, max_len);
    const int64_t tgt = correlated ? std::clamp<int64_t>(src + rng.in(-3, 3), 0, max_len) : rng.in(0, max_len);
    lengths.emplace_back(src, tgt);
  }
  return lengths;
}

}  // namespace

TEST_CASE("make_token_batches: hand-checked example", "[data][token_batches]") {
  // widths: 0:4 1:2 2:3 3:2 4:6 5:1 6:3
  const Lengths lengths = {{4, 3}, {2, 2}, {3, 1}, {2, 1}, {5, 6}, {1, 1}, {3, 3}};
  const auto options = TokenBatchOptions().batch_tokens(8).shuffle(false);
  // Sorted: 5 (1,1), 3 (2,1), 1 (2,2), 2 (3,1), 6 (3,3), 0 (4,3), 4 (5,6).
  // {5,3,1}: 3 rows * 2 = 6; + 2 -> 4 * 3 = 12 > 8, cut. {2,6}: 2 * 3 = 6; + 0 -> 3 * 4 = 12, cut.
  // {0}: 4; + 4 -> 2 * 6 = 12, cut. {4}.
  CHECK(make_token_batches(lengths, 0, options) == Batches{{5, 3, 1}, {2, 6}, {0}, {4}});
  CHECK(make_token_batches(lengths, 7, options) == Batches{{5, 3, 1}, {2, 6}, {0}, {4}});
  CHECK(make_token_batches(lengths, 0, TokenBatchOptions(options).max_sentences(2)) ==
        Batches{{5, 3}, {1, 2}, {6, 0}, {4}});
  CHECK(make_token_batches({}, 0, options).empty());
}

TEST_CASE("make_token_batches: the shuffled order is pinned on every platform", "[data][token_batches]") {
  // Golden values: our Fisher-Yates over std::mt19937_64 gives these with any standard library.
  Lengths lengths;
  for (int64_t i = 0; i < 24; ++i) lengths.emplace_back(1 + i % 4, 1 + i % 3);
  const auto options = TokenBatchOptions().batch_tokens(9).seed(42);
  const auto epoch0 = make_token_batches(lengths, 0, options);
  const auto epoch1 = make_token_batches(lengths, 1, options);
  check_token_batches(lengths, epoch0, options);
  check_token_batches(lengths, epoch1, options);
  CHECK(
      epoch0 ==
      Batches{{12, 0, 4, 16}, {23, 11}, {21, 13, 1}, {20, 8, 9}, {3, 15}, {2, 14}, {17, 5, 6}, {7, 19}, {18, 22, 10}});
  CHECK(
      epoch1 ==
      Batches{{6, 10, 22}, {8, 20, 9}, {21, 1, 13}, {19, 7}, {12, 0, 4, 16}, {15, 3}, {2, 14}, {5, 17, 18}, {11, 23}});
}

TEST_CASE("make_token_batches: properties over random length sets", "[data][token_batches]") {
  TokenBatchesCaseRng rng{2024};
  int epoch_comparisons = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const int64_t max_len = rng.in(1, trial % 3 == 0 ? 4 : 120);  // short ranges: many ties
    const auto lengths = random_lengths(rng, rng.in(0, 300), max_len);
    const auto options = TokenBatchOptions()
                             .batch_tokens(rng.in(max_len, 20 * max_len))
                             .max_sentences(rng.in(0, 1) == 0 ? 0 : rng.in(1, 40))
                             .shuffle(rng.in(0, 3) != 0)
                             .seed(rng.next());
    const int64_t epoch = rng.in(0, 50);
    INFO("trial " << trial << ": " << lengths.size() << " examples, max_len " << max_len << ", batch_tokens "
                  << options.batch_tokens() << ", max_sentences " << options.max_sentences() << ", shuffle "
                  << options.shuffle() << ", epoch " << epoch);

    const auto batches = make_token_batches(lengths, epoch, options);
    check_token_batches(lengths, batches, options);
    REQUIRE(make_token_batches(lengths, epoch, options) == batches);  // deterministic in (seed, epoch)

    if (!options.shuffle()) {
      // Length order, ties by index, and no dependence on the epoch.
      std::vector<int64_t> flat;
      for (const auto& rows : batches) flat.insert(flat.end(), rows.begin(), rows.end());
      for (size_t k = 1; k < flat.size(); ++k) {
        REQUIRE(std::make_pair(lengths[flat[k - 1]], flat[k - 1]) < std::make_pair(lengths[flat[k]], flat[k]));
      }
      REQUIRE(make_token_batches(lengths, epoch + 1, options) == batches);
    } else if (batches.size() >= 8) {
      // 8! orders of batches alone: another epoch gives another order.
      REQUIRE(make_token_batches(lengths, epoch + 1, options) != batches);
      REQUIRE(make_token_batches(lengths, epoch, TokenBatchOptions(options).seed(options.seed() + 1)) != batches);
      ++epoch_comparisons;
    }
  }
  CHECK(epoch_comparisons > 500);
}

TEST_CASE("make_token_batches: long lengths give the same batches", "[data][token_batches]") {
  // Lengths far above the example count take the comparison sort instead of the counting sort; scaling all
  // lengths and the budget by 1000 must not change a single batch.
  TokenBatchesCaseRng rng{99};
  for (int trial = 0; trial < 300; ++trial) {
    Lengths lengths, scaled;
    for (const auto& [src, tgt] : random_lengths(rng, rng.in(1, 200), rng.in(1, 60))) {
      lengths.emplace_back(src + 1, tgt + 1);
      scaled.emplace_back(1000 * (src + 1), 1000 * (tgt + 1));
    }
    const auto options = TokenBatchOptions().batch_tokens(rng.in(61, 600)).seed(rng.next()).shuffle(trial % 2 == 0);
    const auto scaled_options = TokenBatchOptions(options).batch_tokens(1000 * options.batch_tokens());
    const int64_t epoch = rng.in(0, 9);
    const auto batches = make_token_batches(scaled, epoch, scaled_options);
    check_token_batches(scaled, batches, scaled_options);
    REQUIRE(batches == make_token_batches(lengths, epoch, options));
  }
}

TEST_CASE("make_token_batches: ties are shuffled per epoch", "[data][token_batches]") {
  // All examples equally long: one batch order is the same every time, but which examples share a batch
  // changes with the epoch.
  const Lengths lengths(100, {5, 5});
  const auto options = TokenBatchOptions().batch_tokens(50);
  const auto epoch0 = make_token_batches(lengths, 0, options);
  const auto epoch1 = make_token_batches(lengths, 1, options);
  REQUIRE(epoch0.size() == 10);
  check_token_batches(lengths, epoch0, options);
  CHECK(epoch0 != epoch1);
  CHECK(make_token_batches(lengths, 0, TokenBatchOptions(options).shuffle(false)).front() ==
        std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("make_token_batches: 40k examples without a quadratic slip (a hang guard)", "[data][token_batches]") {
  TokenBatchesCaseRng rng{7};
  const auto lengths = random_lengths(rng, 40000, 100);
  const auto options = TokenBatchOptions().batch_tokens(4096);
  const auto start = std::chrono::steady_clock::now();
  const auto batches = make_token_batches(lengths, 3, options);
  const auto seconds = torchzoo::testing::seconds_since(start);
  check_token_batches(lengths, batches, options);
  CHECK_NO_HANG(seconds, 0.01);  // 1-2 ms in an optimised build; quadratic in 40k examples would take minutes
}

TEST_CASE("make_token_batches: errors", "[data][token_batches][errors]") {
  const Lengths lengths = {{3, 4}, {10, 7}, {2, 2}};
  REQUIRE_THROWS_WITH(make_token_batches(lengths, 0, TokenBatchOptions().batch_tokens(8)),
                      Catch::Contains("example 1 has length 10 (src 10, tgt 7), more than batch_tokens 8"));
  REQUIRE_THROWS_WITH(make_token_batches({{3, -1}}, 0, TokenBatchOptions()),
                      Catch::Contains("example 0 has a negative length (src 3, tgt -1)"));
  REQUIRE_THROWS_WITH(make_token_batches(lengths, 0, TokenBatchOptions().batch_tokens(0)),
                      Catch::Contains("batch_tokens must be > 0, got 0"));
  REQUIRE_THROWS_WITH(make_token_batches(lengths, 0, TokenBatchOptions().max_sentences(-2)),
                      Catch::Contains("max_sentences must be >= 0 (0: no cap), got -2"));
}
