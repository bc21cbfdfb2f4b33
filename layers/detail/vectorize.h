#pragma once
// What torchzoo's own CPU kernels share.
//
// TORCHZOO_AVX2_CLONE builds a (non-template) function twice, for AVX2 and for
// the x86-64 baseline; the loader picks the one this CPU runs. Kernel loops
// keep to branch-free float arithmetic with 32-bit counters so that the
// compiler vectorises them; both builds compute the same results.
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TORCHZOO_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define TORCHZOO_AVX2_CLONE
#endif

namespace torchzoo::detail {

/// a . b over n floats with sixteen independent partial sums, so that the compiler vectorises the
/// loop without reassociating a sum (inlined into each clone of its caller).
__attribute__((always_inline)) inline float dot_product(const float* __restrict a, const float* __restrict b, int n) {
  constexpr int kLanes = 16;
  float partial[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) partial[l] += a[i + l] * b[i + l];
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += a[i] * b[i];
  for (int l = 0; l < kLanes; ++l) sum += partial[l];
  return sum;
}

/// Chris Wellons' "lowbias32" integer hash: a bijection on 32 bits with low bias.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

}  // namespace torchzoo::detail
