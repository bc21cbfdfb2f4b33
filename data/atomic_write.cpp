#include "torchzoo/data/atomic_write.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "torchzoo/layers/detail/check.h"

namespace torchzoo::data {

void write_atomically(const std::string& path, const std::function<void(const std::string& temporary)>& write) {
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const auto temporary = fmt::format("{}.tmp-{}", path, ::getpid());  // per process: concurrent writers never share it
  try {
    write(temporary);
    std::error_code error;
    std::filesystem::rename(temporary, target, error);
    TORCHZOO_CHECK(!error, "cannot rename '{}' to '{}': {}", temporary, path, error.message());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

}  // namespace torchzoo::data
