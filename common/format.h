#pragma once
// The one place torchzoo includes fmt. LibTorch ships its own fmt headers, so
// the build puts the headers of the fmt we link first on the include path; this
// check turns any mix-up of the two copies into a compile error.
#include <fmt/format.h>
#include <fmt/ranges.h>

#if defined(TORCHZOO_FMT_VERSION) && FMT_VERSION != TORCHZOO_FMT_VERSION
#error "fmt headers do not match the fmt library torchzoo links (see cmake/TorchzooDependencies.cmake)"
#endif
