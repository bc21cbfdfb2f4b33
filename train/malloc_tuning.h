#pragma once
// glibc's malloc returns large freed blocks to the kernel (mmap threshold
// 128 KiB, heap trimming above 128 KiB free), so a training step that frees and
// re-allocates the same activation buffers page-faults them in again each
// step. Python's interpreter holds on to more memory and pays this less. The
// executables (CLI, benchmarks) call this once at start-up: blocks up to 32 MiB
// come from the heap and the heap is trimmed only past 256 MiB free, which
// keeps the working set mapped from step to step. The same effect as
// GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456.
#include <malloc.h>

namespace torchzoo::train {

inline void tune_malloc_for_training() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

}  // namespace torchzoo::train
