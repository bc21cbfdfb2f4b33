#include "torchzoo/common/atomic_write.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "torchzoo/common/check.h"

namespace torchzoo::common {

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

void write_file_atomically(const std::string& path, std::string_view content, std::string_view what) {
  write_atomically(path, [&](const std::string& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    TORCHZOO_CHECK(out.good(), "{}: cannot create '{}'", what, temporary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    TORCHZOO_CHECK(out.good(), "{}: write error in '{}'", what, temporary);
  });
}

}  // namespace torchzoo::common
