#pragma once
// What this machine's matrix products reach: the FLOP/s of one large GEMM
// (2048 x 2048 x 2048) in a dtype, with this process's threads, through the
// fastest kernel LibTorch has for it (in float32 on the CPU the better of
// at::mm's BLAS and oneDNN). Model FLOPs utilisation (MFU) is a training step's
// matrix FLOP/s (train/flop_counter.h) over this ceiling. The figure is
// measured once (about a second in fp32 on 2 cores) and cached per CPU model,
// device, dtype, thread count and torch version in a JSON file.
//
// The same file caches which kernel runs float32 training linears faster on
// this CPU (layers/linear_kernel.h), for `train.linear_kernel: auto`.
#include <string>

#include <torch/types.h>

#include "torchzoo/layers/linear_kernel.h"

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

/// The FLOP/s of a float32 training linear's three products on the CPU as `kernel` runs them: the
/// forward and the two gradients of a feed-forward's two linears (1024 rows, 512 <-> 4 x 512).
double measure_linear_flops(layers::LinearKernel kernel, int64_t rows = 1024, int64_t width = 512);

/// A resolved `train.linear_kernel`.
struct LinearKernelChoice {
  layers::LinearKernel kernel = layers::LinearKernel::kBlas;
  std::string reason;  ///< e.g. "auto: onednn 171 GFLOP/s, blas 133 GFLOP/s"
  /// "linear kernel onednn (auto: ...)".
  std::string describe() const;
};

/// Resolves "auto", "blas" or "onednn" for training on `device` with `autocast` (nullopt: fp32).
/// auto takes oneDNN where it measured faster for float32 CPU linears (cached in `cache_path`), and
/// BLAS elsewhere: on other devices, under autocast (at::linear's autocast casts), or where LibTorch
/// lacks oneDNN's op. An explicit "onednn" that cannot apply throws, saying why.
LinearKernelChoice choose_linear_kernel(const std::string& setting, torch::Device device,
                                        std::optional<torch::ScalarType> autocast,
                                        const std::string& cache_path = default_gemm_cache_path());

}  // namespace torchzoo::train
