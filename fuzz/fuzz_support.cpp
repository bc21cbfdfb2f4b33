#include "fuzz_support.h"

#include <c10/util/Logging.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace torchzoo::fuzz {
namespace {

/// Owns the scratch folder; its destructor runs at exit (libFuzzer ends with exit()).
struct ScratchDir {
  std::string path;
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/torchzoo-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) throw std::runtime_error("fuzz: cannot create a scratch folder " + pattern);
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

const std::string& scratch_dir() {
  static ScratchDir dir;
  return dir.path;
}

std::string write_scratch(const std::string& name, std::string_view content) {
  auto path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out.flush()) finding("fuzz: cannot write the scratch file " + path);
  return path;
}

std::vector<std::string> split_at_nul(std::string_view input) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (true) {
    const auto end = input.find('\0', begin);
    parts.emplace_back(input.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) return parts;
    begin = end + 1;
  }
}

void finding(const std::string& what) {
  std::fprintf(stderr, "finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void expect_error_naming(const std::vector<std::string>& names, const std::function<void()>& read) {
  std::string message;
  try {
    read();
    return;
  } catch (const c10::Error& e) {
    message = e.what_without_backtrace();
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
    finding("a throw that is not a std::exception");
  }
  for (const auto& name : names) {
    if (message.find(name) != std::string::npos) return;
  }
  finding(fmt::format("unclear error (names none of '{}'): {}", fmt::join(names, "', '"), message));
}

}  // namespace torchzoo::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  c10::SetStackTraceFetcher([] { return std::string(); });
  return 0;
}
