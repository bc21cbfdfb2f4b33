#include "torchzoo/data/token_batches.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <tuple>

#include "torchzoo/common/check.h"

namespace torchzoo::data {
namespace {

/// splitmix64 (Steele, Lea & Flood 2014): spreads nearby seeds (seed 1 epoch 2, seed 2 epoch 1) far apart.
uint64_t token_batches_mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Uniform in [0, n), n > 0: draws at or above 2^64 mod n leave a multiple of n values, so `% n` is unbiased.
uint64_t token_batches_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t reject_below = (0 - n) % n;  // 2^64 mod n
  while (true) {
    const uint64_t r = rng();
    if (r >= reject_below) return r % n;
  }
}

/// Fisher-Yates; std::shuffle would give other orders with other standard libraries.
template <class T>
void token_batches_shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    const size_t j = token_batches_below(rng, i);
    std::swap(items[i - 1], items[j]);
  }
}

/// One pass of an LSD radix sort: orders `order` stably by `key` (in [0, longest]), in O(n + longest).
template <class Key>
void token_batches_counting_pass(std::vector<int64_t>& order, std::vector<int64_t>& scratch, int64_t longest, Key key) {
  std::vector<int64_t> starts(static_cast<size_t>(longest) + 2, 0);
  for (int64_t i : order) ++starts[static_cast<size_t>(key(i)) + 1];
  std::partial_sum(starts.begin(), starts.end(), starts.begin());
  scratch.resize(order.size());
  for (int64_t i : order) scratch[static_cast<size_t>(starts[static_cast<size_t>(key(i))]++)] = i;
  order.swap(scratch);
}

}  // namespace

std::vector<std::vector<int64_t>> make_token_batches(const std::vector<std::pair<int64_t, int64_t>>& lengths,
                                                     int64_t epoch, const TokenBatchOptions& options) {
  const int64_t budget = options.batch_tokens();
  TORCHZOO_CHECK(budget > 0, "make_token_batches: batch_tokens must be > 0, got {}", budget);
  TORCHZOO_CHECK(options.max_sentences() >= 0, "make_token_batches: max_sentences must be >= 0 (0: no cap), got {}",
                 options.max_sentences());

  const auto n = static_cast<int64_t>(lengths.size());
  int64_t longest = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto [src, tgt] = lengths[static_cast<size_t>(i)];
    TORCHZOO_CHECK(src >= 0 && tgt >= 0, "make_token_batches: example {} has a negative length (src {}, tgt {})", i,
                   src, tgt);
    TORCHZOO_CHECK(std::max(src, tgt) <= budget,
                   "make_token_batches: example {} has length {} (src {}, tgt {}), more than batch_tokens {} on its "
                   "own; filter examples by length first",
                   i, std::max(src, tgt), src, tgt, budget);
    longest = std::max({longest, src, tgt});
  }

  // Ties first: the examples in a shuffled order (or by index), then stable sorts by tgt and by src leave them
  // sorted by (src, tgt, that order).
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::mt19937_64 rng(token_batches_mix(token_batches_mix(options.seed()) ^ static_cast<uint64_t>(epoch)));
  if (options.shuffle()) token_batches_shuffle(order, rng);
  const auto src_of = [&](int64_t i) { return lengths[static_cast<size_t>(i)].first; };
  const auto tgt_of = [&](int64_t i) { return lengths[static_cast<size_t>(i)].second; };
  if (longest <= 4 * n + 4096) {
    // Lengths are token counts, small next to n: counting sorts take ~1 ms for 40k examples.
    std::vector<int64_t> scratch;
    token_batches_counting_pass(order, scratch, longest, tgt_of);
    token_batches_counting_pass(order, scratch, longest, src_of);
  } else {
    std::vector<int64_t> tie(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) tie[static_cast<size_t>(order[static_cast<size_t>(k)])] = k;
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return std::make_tuple(src_of(a), tgt_of(a), tie[static_cast<size_t>(a)]) <
             std::make_tuple(src_of(b), tgt_of(b), tie[static_cast<size_t>(b)]);
    });
  }

  // Greedy: add rows while rows * widest <= budget; tgt is not sorted, so the width is a running max.
  std::vector<std::vector<int64_t>> batches;
  std::vector<int64_t> rows;
  int64_t width = 0;
  for (int64_t i : order) {
    const int64_t own = std::max<int64_t>({src_of(i), tgt_of(i), 1});
    int64_t wider = std::max(width, own);
    const auto count = static_cast<int64_t>(rows.size()) + 1;
    const bool fits = count <= budget / wider && (options.max_sentences() == 0 || count <= options.max_sentences());
    if (!fits) {
      batches.push_back(std::move(rows));
      rows.clear();
      wider = own;
    }
    rows.push_back(i);
    width = wider;
  }
  if (!rows.empty()) batches.push_back(std::move(rows));

  if (options.shuffle()) token_batches_shuffle(batches, rng);
  return batches;
}

}  // namespace torchzoo::data
