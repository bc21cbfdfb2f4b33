// The data directory's order: set_data_dir (--data-dir), TORCHZOO_DATA_DIR, XDG_CACHE_HOME, HOME.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "torchzoo/common/data_dir.h"

using torchzoo::common::data_dir;
using torchzoo::common::data_dir_source;
using torchzoo::common::data_path;
using torchzoo::common::set_data_dir;

namespace {

/// Sets (or, with nullopt, unsets) an environment variable for its lifetime, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("data_dir takes --data-dir, then TORCHZOO_DATA_DIR, then XDG_CACHE_HOME, then HOME", "[common][data_dir]") {
  ScopedEnv home("HOME", "/home/user");
  ScopedEnv xdg("XDG_CACHE_HOME", std::nullopt);
  ScopedEnv own("TORCHZOO_DATA_DIR", std::nullopt);
  CHECK(data_dir() == "/home/user/.cache/torchzoo");
  CHECK(data_dir_source() == "HOME");
  {
    ScopedEnv cache("XDG_CACHE_HOME", "/var/cache/user");
    CHECK(data_dir() == "/var/cache/user/torchzoo");
    CHECK(data_dir_source() == "XDG_CACHE_HOME");
    {
      ScopedEnv set("TORCHZOO_DATA_DIR", "/srv/corpora");
      CHECK(data_dir() == "/srv/corpora");
      CHECK(data_dir_source() == "TORCHZOO_DATA_DIR");
      CHECK(data_path("libreoffice-langid/train.tsv") == "/srv/corpora/libreoffice-langid/train.tsv");
      set_data_dir("/mnt/scratch");
      CHECK(data_dir() == "/mnt/scratch");
      CHECK(data_dir_source() == "--data-dir");
      set_data_dir("");  // back to the environment
      CHECK(data_dir() == "/srv/corpora");
    }
    // An empty variable counts as unset, as for XDG's own variables.
    ScopedEnv empty("TORCHZOO_DATA_DIR", "");
    CHECK(data_dir() == "/var/cache/user/torchzoo");
  }
}

TEST_CASE("data_dir says how to set one when nothing names it", "[common][data_dir][errors]") {
  ScopedEnv home("HOME", std::nullopt);
  ScopedEnv xdg("XDG_CACHE_HOME", std::nullopt);
  ScopedEnv own("TORCHZOO_DATA_DIR", std::nullopt);
  CHECK_THROWS_WITH(data_dir(), Catch::Contains("no data directory") && Catch::Contains("--data-dir DIR") &&
                                    Catch::Contains("TORCHZOO_DATA_DIR"));
  CHECK(data_dir_source().empty());
}
