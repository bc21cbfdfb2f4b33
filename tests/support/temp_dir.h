#pragma once
// Scratch folders for tests that write files: one per test and process, so
// parallel ctest runs never share one.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace torchzoo::testing {

/// An empty folder <tmp>/torchzoo_test_<name>_<pid>, created (any old one is removed first).
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("torchzoo_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace torchzoo::testing
