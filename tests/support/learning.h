#pragma once
// Helpers for the tests that train a model and assert what it learned (Catch
// tag [learning]). Such a test must hold for any trajectory, not only the one
// that float rounding on this machine's kernels happens to give: rounding
// differs by instruction set (ATEN_CPU_CAPABILITY, MKL, oneDNN) and by thread
// count, and another trajectory is much like another seed. apply_train_seed() lets
// tests/learning_sweep.py run each such test under other seeds (Catch's
// --rng-seed) and kernel paths, to show that its bars hold with margin;
// ctest runs them again under a second kernel path (tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <string>

#include "hang_guard.h"
#include "torchzoo/configs/config.h"

namespace torchzoo::testing {

/// `train.seed=N` when the run was started with `--rng-seed N` (N > 0), for `--set`; otherwise "",
/// and the config's own seed stands.
inline std::string train_seed_override() {
  const auto seed = Catch::rngSeed();
  return seed == 0 ? "" : "train.seed=" + std::to_string(seed);
}

/// Applies train_seed_override() to `config`, when there is one.
inline void apply_train_seed(configs::Config& config) {
  if (const auto seed = train_seed_override(); !seed.empty()) config.apply_override(seed);
}

}  // namespace torchzoo::testing
