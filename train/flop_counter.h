#pragma once
// Counting the matrix arithmetic a piece of work does, as PyTorch's profiler
// counts it (`with_flops=True`): while a FlopCounter lives, every ATen matrix
// product and convolution that runs, on any thread, adds its floating-point
// operations (2 per multiply-add) computed from its input shapes. Forward,
// backward and optimizer ops all count: the backward's matmuls are ATen ops
// like the forward's. Elementwise ops (add, mul, softmax, norms) are left
// out, so that the figure compares with a GEMM's peak: it is the work of
// "model FLOPs utilisation". The fused attention kernels of
// at::scaled_dot_product_attention count their two (forward) and four
// (backward) matrix products, which the profiler's formulas miss. Not counted:
// a convolution's backward (in a ViT, the patch embedding's weight gradient,
// a few percent of a step).
//
// Example:
//   uint64_t flops;
//   { FlopCounter counter; loss.backward(); flops = counter.flops(); }
#include <cstdint>

namespace torchzoo::train {

/// Counts the matrix FLOPs (2 per multiply-add) of every ATen matrix product and convolution that
/// runs, on any thread, while it lives, as PyTorch's profiler counts them with `with_flops=True`.
///
/// Example:
///   uint64_t flops;
///   { FlopCounter counter; loss.backward(); flops = counter.flops(); }
class FlopCounter {
 public:
  FlopCounter();
  ~FlopCounter();
  FlopCounter(const FlopCounter&) = delete;
  FlopCounter& operator=(const FlopCounter&) = delete;

  /// The operations counted since this counter was made.
  uint64_t flops() const;

 private:
  uint64_t start_ = 0;
};

}  // namespace torchzoo::train
