#pragma once
// What this machine's matrix products reach: the FLOP/s of one large GEMM
// (2048 x 2048 x 2048) in a dtype, with this process's threads. Model FLOPs
// utilisation (MFU) is a training step's matrix FLOP/s (train/flop_counter.h)
// over this ceiling. The figure is measured once (about a second in fp32 on
// 2 cores) and cached per CPU model, device, dtype, thread count and torch
// version in a JSON file.
#include <string>

#include <torch/types.h>

namespace torchzoo::train {

/// The FLOP/s one large GEMM (2048 x 2048 x 2048) reaches on this machine: the denominator of MFU.
struct GemmCeiling {
  double flops_per_s = 0.0;  ///< the best of the timed products
  std::string key;           ///< what it was measured on: CPU model, device, dtype, threads, torch version
  bool cached = false;       ///< read from the cache, not measured now
};

/// $TORCHZOO_CACHE_DIR, else $XDG_CACHE_HOME/torchzoo, else ~/.cache/torchzoo; then /gemm_ceiling.json.
std::string default_gemm_cache_path();

/// The ceiling for `dtype` on `device`: from `cache_path` when it holds this machine's figure, else
/// measured and written there (a cache that cannot be read or written is measured past).
GemmCeiling gemm_ceiling(torch::Device device, torch::ScalarType dtype,
                         const std::string& cache_path = default_gemm_cache_path());

/// Measures it, without the cache.
double measure_gemm_flops(torch::Device device, torch::ScalarType dtype, int64_t size = 2048);

}  // namespace torchzoo::train
