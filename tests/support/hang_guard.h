#pragma once
// Time bounds in tests are hang guards only: ten times the normal time, with
// the measured time in the message. Speed is judged by the benchmarks in
// bench/, which run the peer side by side; a test that bounded time tightly
// would fail on a slow or throttled machine for reasons that have nothing to
// do with correctness.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>

namespace torchzoo::testing {

/// Seconds since `start`, on the steady clock.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace torchzoo::testing

/// Fails only when `seconds` exceeds ten times `normal_seconds`, the time the step normally takes
/// in a full `make test` on 2 cores, and never below 5 s (a loaded, throttled or swapping machine
/// can lose seconds at any moment). It reports the measured time either way.
#define CHECK_NO_HANG(seconds, normal_seconds)                                                                 \
  do {                                                                                                         \
    const double torchzoo_seconds_ = (seconds);                                                                \
    const double torchzoo_bound_ = std::max(10.0 * (normal_seconds), 5.0);                                     \
    INFO("took " << torchzoo_seconds_ << " s; normally about " << (normal_seconds) << " s; the hang guard is " \
                 << torchzoo_bound_ << " s");                                                                  \
    CHECK(torchzoo_seconds_ < torchzoo_bound_);                                                                \
  } while (false)
