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
