#pragma once
// Helpers for the tests that train a model and assert what it learned (Catch
// tag [learning]). Such a test must hold for any trajectory, not only the one
// that float rounding on this machine's kernels happens to give: rounding
// differs by instruction set (ATEN_CPU_CAPABILITY, MKL, oneDNN) and by thread
// count, and another trajectory is much like another seed. train_seed() lets
// tests/learning_sweep.py run each such test under other seeds (Catch's
// --rng-seed) and kernel paths, to show that its bars hold with margin;
// ctest runs them again under a second kernel path (tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "hang_guard.h"

namespace torchzoo::testing {

/// The training seed to use instead of the config's, when the run was started with
/// `--rng-seed N` (N > 0); otherwise none, and the config's own seed stands.
inline std::optional<unsigned> train_seed() {
  const auto seed = Catch::rngSeed();
  if (seed == 0) return std::nullopt;
  return seed;
}

/// `train.seed=N` for Config::apply_override or `--set`, or "" when train_seed() is none.
inline std::string train_seed_override() {
  const auto seed = train_seed();
  return seed ? "train.seed=" + std::to_string(*seed) : "";
}

}  // namespace torchzoo::testing
