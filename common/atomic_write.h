#pragma once
// Files that appear whole or not at all. Every file torchzoo writes goes
// through here: the content is written to a temporary file in the target's
// folder (`<name>.tmp-<pid>`), flushed to the disk (fsync), renamed over the
// target (atomic within one file system) and the folder is flushed too, so a
// crash or a kill -9 at any moment leaves either the old file or the new one.
// Any failure -- a full disk included -- removes the temporary file and throws
// WriteError naming the file and the OS error; nothing aborts. A target that
// exists and is not a regular file (a device, a FIFO, a folder, a symbolic
// link) is never replaced.
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace torchzoo::common {

/// A file that could not be written: the message names it and says why ("No space left on device").
class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws WriteError unless `path` is absent or a regular file (what write_atomically may replace).
void check_replaceable(const std::string& path, std::string_view what);

/// Creates `path`'s folder if needed, calls `write(out)` to write the content into a stream on a
/// temporary file beside `path`, then syncs and renames it to `path`. A failed write of the stream
/// (ENOSPC, EIO, ...) is remembered and reported after `write` returns, so code that cannot take a
/// failing stream (torch's zip writer) never sees one. `what` names the file's kind in errors.
///
/// Example:
///   write_atomically("runs/x/checkpoint.pt", "checkpoint", [&](std::ostream& out) { archive.save_to(out); });
void write_atomically(const std::string& path, std::string_view what, const std::function<void(std::ostream&)>& write);

/// write_atomically of a file holding `content`.
///
/// Example:
///   write_file_atomically("data/train.tsv", tsv, "parallel text");
void write_file_atomically(const std::string& path, std::string_view content, std::string_view what);

/// Removes the temporary files (`*.tmp-<pid>`) that processes no longer running left in `dir`
/// (a run killed while writing); returns how many it removed. Other files are never touched.
int remove_stale_temporaries(const std::string& dir);

/// Whether `name` is the name of one of write_atomically's temporary files.
bool is_temporary_name(std::string_view name);

}  // namespace torchzoo::common
