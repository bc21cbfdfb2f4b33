#pragma once
// Files that appear whole or not at all: written under a temporary name in the
// target's folder, then renamed into place (a rename within one file system
// is atomic), so a reader never sees half a file and a failed write leaves
// neither a temporary file nor a changed target behind.
#include <functional>
#include <string>
#include <string_view>

namespace torchzoo::common {

/// Creates `path`'s folder if needed, calls `write(temporary)` to write the file's content under
/// a temporary name beside `path`, then renames it to `path`. If `write` or the rename throws,
/// the temporary file is removed and the error propagates.
///
/// Example:
///   write_atomically("runs/x/model.pt", [&](const std::string& temporary) { module.save(temporary); });
void write_atomically(const std::string& path, const std::function<void(const std::string& temporary)>& write);

/// write_atomically of a file holding `content`; errors name `what` and the file.
///
/// Example:
///   write_file_atomically("data/train.tsv", tsv, "parallel text");
void write_file_atomically(const std::string& path, std::string_view content, std::string_view what);

}  // namespace torchzoo::common
