#pragma once
// Where the `bert_reference` fixture (tests/reference/bert_reference.py fixture) leaves the
// all-MiniLM-L6-v2 folder and the reference outputs, and the skip every BERT test takes
// when the model package is not installed.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "../support/golden.h"

namespace torchzoo::testing {

inline std::filesystem::path bert_dir() { return std::filesystem::path(golden_dir()).parent_path() / "bert"; }
inline std::filesystem::path minilm_dir() { return bert_dir() / "minilm"; }

/// False, after printing the fixture's "SKIPPED: ..." reason, where the model could not be had.
inline bool minilm_or_skip() {
  std::ifstream skipped(minilm_dir() / "SKIPPED");
  if (!skipped) return true;
  std::string reason;
  std::getline(skipped, reason);
  std::cout << reason << "\n";
  return false;
}

}  // namespace torchzoo::testing
