#include "torchzoo/common/atomic_write.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <streambuf>
#include <system_error>

#include <c10/util/Exception.h>

#include "torchzoo/common/format.h"

namespace torchzoo::common {
namespace {

namespace fs = std::filesystem;

std::string os_error(int error) { return std::strerror(error); }

[[noreturn]] void fail(std::string_view what, const std::string& path, const std::string& why) {
  throw WriteError(fmt::format("cannot write {} '{}': {}", what, path, why));
}

std::string temporary_name(const std::string& path) { return fmt::format("{}.tmp-{}", path, ::getpid()); }

/// Writes everything or sets errno and returns false.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

/// A buffered stream onto a file descriptor that, once a write fails, remembers the errno and
/// swallows the rest: callers check error() when done.
class DescriptorBuffer : public std::streambuf {
 public:
  explicit DescriptorBuffer(int fd) : fd_(fd) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  ~DescriptorBuffer() override = default;
  int error() const { return error_; }
  /// Writes what is buffered; false (and error() set) on failure.
  bool flush() {
    const auto size = static_cast<size_t>(pptr() - pbase());
    if (size > 0 && error_ == 0 && !write_all(fd_, pbase(), size)) error_ = errno;
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return error_ == 0;
  }

 protected:
  int_type overflow(int_type c) override {
    flush();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    if (size < static_cast<std::streamsize>(buffer_.size())) return std::streambuf::xsputn(data, size);
    flush();  // large blocks (tensor data) go straight to the file
    if (error_ == 0 && !write_all(fd_, data, static_cast<size_t>(size))) error_ = errno;
    return size;
  }
  int sync() override { return flush() ? 0 : -1; }

 private:
  int fd_;
  int error_ = 0;
  std::array<char, 1 << 16> buffer_{};
};

/// Syncs the folder holding `path`, so the rename itself survives a power cut.
void sync_folder(const std::string& path, std::string_view what) {
  const auto folder = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(what, path, fmt::format("cannot open its folder to sync it: {}", os_error(errno)));
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  // Some file systems cannot sync folders (EINVAL); the rename has happened either way.
  if (result != 0 && error != EINVAL && error != EROFS) {
    fail(what, path, fmt::format("fsync of its folder: {}", os_error(error)));
  }
}

void prepare_target(const std::string& path, std::string_view what) {
  if (path.empty()) throw WriteError(fmt::format("cannot write {}: the file name is empty", what));
  check_replaceable(path, what);
  const fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code error;
    fs::create_directories(target.parent_path(), error);
    if (error) fail(what, path, fmt::format("cannot create folder '{}': {}", target.parent_path().string(),
                                            error.message()));
  }
}

/// Renames the synced temporary file onto `path` and syncs the folder.
void commit(const std::string& temporary, const std::string& path, std::string_view what) {
  check_replaceable(path, what);  // again: something may have appeared there while writing
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    fail(what, path, fmt::format("cannot rename '{}' onto it: {}", temporary, os_error(errno)));
  }
  sync_folder(path, what);
}

/// The message of an exception thrown by a writer, without c10's backtrace.
std::string message_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

void check_replaceable(const std::string& path, std::string_view what) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return;
    fail(what, path, os_error(errno));
  }
  if (S_ISREG(info.st_mode)) return;
  const char* kind = S_ISDIR(info.st_mode)    ? "a folder"
                     : S_ISLNK(info.st_mode)  ? "a symbolic link"
                     : S_ISCHR(info.st_mode)  ? "a character device"
                     : S_ISBLK(info.st_mode)  ? "a block device"
                     : S_ISFIFO(info.st_mode) ? "a FIFO"
                     : S_ISSOCK(info.st_mode) ? "a socket"
                                              : "not a regular file";
  fail(what, path, fmt::format("it is {}, which torchzoo never replaces; choose another file name", kind));
}

void write_atomically(const std::string& path, std::string_view what,
                      const std::function<void(std::ostream&)>& write) {
  prepare_target(path, what);
  const auto temporary = temporary_name(path);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(what, path, fmt::format("cannot create '{}': {}", temporary, os_error(errno)));
  auto abandon = [&](const std::string& why) {
    ::close(fd);
    ::unlink(temporary.c_str());
    fail(what, path, why);
  };
  DescriptorBuffer buffer(fd);
  try {
    std::ostream out(&buffer);
    write(out);
    out.flush();
  } catch (...) {
    const auto why = message_of(std::current_exception());
    abandon(buffer.error() != 0 ? os_error(buffer.error()) : why);
  }
  if (!buffer.flush()) abandon(os_error(buffer.error()));
  if (::fsync(fd) != 0) abandon(fmt::format("fsync: {}", os_error(errno)));
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    fail(what, path, os_error(error));
  }
  try {
    commit(temporary, path, what);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
}

void write_file_atomically(const std::string& path, std::string_view content, std::string_view what) {
  write_atomically(path, what, [&](std::ostream& out) {
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  });
}

bool is_temporary_name(std::string_view name) {
  const auto at = name.rfind(".tmp-");
  if (at == std::string_view::npos || at == 0 || at + 5 == name.size()) return false;
  for (const char c : name.substr(at + 5)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int remove_stale_temporaries(const std::string& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return 0;
  int removed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir, error)) {
    const auto name = entry.path().filename().string();
    if (!is_temporary_name(name) || !entry.is_regular_file(error)) continue;
    const auto digits = name.substr(name.rfind(".tmp-") + 5);
    long pid = 0;
    if (std::from_chars(digits.data(), digits.data() + digits.size(), pid).ec != std::errc()) continue;
    const bool running = pid == ::getpid() || (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM));
    if (!running && fs::remove(entry.path(), error)) ++removed;
  }
  return removed;
}

}  // namespace torchzoo::common
