#include "torchzoo/common/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <utility>

#include "torchzoo/common/check.h"

namespace torchzoo::common {
namespace {

struct Override {
  std::mutex mutex;
  std::string dir;
};

Override& override_dir() {
  static Override state;
  return state;
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// The directory and the name of what set it; an empty directory when nothing did.
std::pair<std::string, std::string> resolve() {
  {
    auto& state = override_dir();
    std::lock_guard<std::mutex> lock(state.mutex);
    if (!state.dir.empty()) return {state.dir, "--data-dir"};
  }
  if (auto dir = environment("TORCHZOO_DATA_DIR"); !dir.empty()) return {dir, "TORCHZOO_DATA_DIR"};
  if (auto cache = environment("XDG_CACHE_HOME"); !cache.empty()) {
    return {(std::filesystem::path(cache) / "torchzoo").string(), "XDG_CACHE_HOME"};
  }
  if (auto home = environment("HOME"); !home.empty()) {
    return {(std::filesystem::path(home) / ".cache" / "torchzoo").string(), "HOME"};
  }
  return {};
}

}  // namespace

std::string data_dir() {
  auto [dir, source] = resolve();
  TORCHZOO_CHECK(!dir.empty(),
                 "no data directory: --data-dir, TORCHZOO_DATA_DIR, XDG_CACHE_HOME and HOME are all unset; "
                 "give --data-dir DIR or set TORCHZOO_DATA_DIR");
  return dir;
}

std::string data_dir_source() { return resolve().second; }

void set_data_dir(const std::string& dir) {
  auto& state = override_dir();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.dir = dir;
}

std::string data_path(const std::string& relative) { return (std::filesystem::path(data_dir()) / relative).string(); }

}  // namespace torchzoo::common
