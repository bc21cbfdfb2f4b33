// Crash-safe writes: whole files or none, no special files replaced, errors that name the file.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/temp_dir.h"
#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/format.h"

using namespace torchzoo;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("write_file_atomically replaces a file whole and leaves no temporary file", "[atomic_write][faults]") {
  const auto dir = testing::fresh_dir("atomic_write");
  const auto path = (dir / "sub" / "a.txt").string();
  common::write_file_atomically(path, "first", "test file");
  common::write_file_atomically(path, "second", "test file");
  CHECK(read(path) == "second");
  CHECK(names_in(dir / "sub") == std::vector<std::string>{"a.txt"});
}

TEST_CASE("A writer that fails leaves the old file and no temporary file, and the error names the file",
          "[atomic_write][faults]") {
  const auto dir = testing::fresh_dir("atomic_write_fail");
  const auto path = (dir / "a.txt").string();
  common::write_file_atomically(path, "old", "test file");
  CHECK_THROWS_AS(common::write_atomically(path, "test file",
                                           [](std::ostream& out) {
                                             out << "half";
                                             throw std::runtime_error("the writer gave up");
                                           }),
                  common::WriteError);
  CHECK_THROWS_WITH(common::write_atomically(path, "test file",
                                             [](std::ostream&) { throw std::runtime_error("the writer gave up"); }),
                    Catch::Contains(path) && Catch::Contains("the writer gave up"));
  CHECK(read(path) == "old");
  CHECK(names_in(dir) == std::vector<std::string>{"a.txt"});
}

TEST_CASE("Special files, folders and links are never replaced", "[atomic_write][faults]") {
  const auto dir = testing::fresh_dir("atomic_write_special");
  CHECK_THROWS_WITH(common::write_file_atomically("/dev/null", "x", "test file"),
                    Catch::Contains("/dev/null") && Catch::Contains("character device"));
  struct stat info {};
  REQUIRE(::stat("/dev/null", &info) == 0);
  CHECK(S_ISCHR(info.st_mode));
  CHECK_THROWS_WITH(common::write_file_atomically(dir.string(), "x", "test file"), Catch::Contains("a folder"));
  common::write_file_atomically((dir / "target").string(), "keep", "test file");
  fs::create_symlink(dir / "target", dir / "link");
  CHECK_THROWS_WITH(common::write_file_atomically((dir / "link").string(), "x", "test file"),
                    Catch::Contains("symbolic link"));
  CHECK(read(dir / "target") == "keep");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  CHECK_THROWS_WITH(common::write_file_atomically((dir / "fifo").string(), "x", "test file"), Catch::Contains("FIFO"));
  CHECK_THROWS_WITH(common::write_file_atomically("", "x", "test file"), Catch::Contains("empty"));
}

TEST_CASE("Temporary files of processes that are gone are removed, others are kept", "[atomic_write][faults]") {
  const auto dir = testing::fresh_dir("atomic_write_stale");
  fs::create_directories(dir / "snapshots");
  for (const auto* name : {"checkpoint.pt.tmp-999999999", "snapshots/step_1.pt.tmp-999999998", "notes.tmp-x",
                           "keep.txt"}) {
    std::ofstream(dir / name) << "";
  }
  const auto mine = fmt::format("best.pt.tmp-{}", ::getpid());
  std::ofstream(dir / mine) << "";
  CHECK(common::remove_stale_temporaries(dir.string()) == 2);
  CHECK(names_in(dir) == std::vector<std::string>{mine, "keep.txt", "notes.tmp-x", "snapshots"});
  CHECK(names_in(dir / "snapshots").empty());
  CHECK(common::is_temporary_name("checkpoint.pt.tmp-12"));
  CHECK_FALSE(common::is_temporary_name("checkpoint.pt.tmp-"));
  CHECK_FALSE(common::is_temporary_name(".tmp-12"));
}

TEST_CASE("excerpt cuts long text at a character boundary and says how long it was", "[format]") {
  CHECK(common::excerpt("short") == "short");
  const std::string long_text(5000, 'x');
  const auto cut = common::excerpt(long_text, 200);
  CHECK(cut.size() < 240);
  CHECK_THAT(cut, Catch::Contains("5000 bytes in all"));
  const std::string umlauts = std::string(199, 'a') + "\xc3\xa4\xc3\xa4";  // a 2-byte character across byte 200
  CHECK(common::excerpt(umlauts, 200).substr(0, 200) == std::string(199, 'a') + "\xe2");
}
