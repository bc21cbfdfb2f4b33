#pragma once
// What every fuzz target shares. The readers under test take paths, so an input
// goes to a scratch file first; the outcome a reader promises for bad input is an
// exception whose message names the file. Anything else -- a crash, a sanitizer
// report, a hang, another kind of throw, a message that does not say which file --
// is a finding: the target prints it and aborts, and libFuzzer saves the input.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace torchzoo::fuzz {

/// One input's bytes as a string (the readers' file content).
inline std::string_view bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// A per-process scratch folder (under $TMPDIR, else /tmp), removed at exit.
const std::string& scratch_dir();

/// Writes `content` to scratch_dir()/`name` and returns that path.
std::string write_scratch(const std::string& name, std::string_view content);

/// Splits `input` at NUL bytes: how a target takes several strings from one input
/// (a config and its --set assignments, two aligned files, a hypothesis and references).
std::vector<std::string> split_at_nul(std::string_view input);

/// Prints "finding: <what>" and aborts, so that libFuzzer keeps the input as a crash.
[[noreturn]] void finding(const std::string& what);

/// Runs `read`. Returning normally or throwing a std::exception whose message
/// contains one of `names` (the file the reader was given, or "--set") are the
/// promised outcomes; a message without one is a finding ("unclear error"), as is
/// any other throw.
void expect_error_naming(const std::vector<std::string>& names, const std::function<void()>& read);

}  // namespace torchzoo::fuzz

/// libFuzzer's start-up hook, here for every target: one LibTorch thread, and errors
/// without backtraces (targets throw millions of them).
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
