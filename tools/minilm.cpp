#include "torchzoo/tools/minilm.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <zip.h>

#include "torchzoo/common/check.h"

namespace torchzoo::tools {
namespace {

namespace fs = std::filesystem;

/// <prefix>/lib/python3*/{site,dist}-packages and <prefix>/lib/python3/dist-packages.
void add_package_dirs(const fs::path& prefix, std::vector<fs::path>& out) {
  std::error_code error;
  const auto lib = prefix / "lib";
  if (!fs::is_directory(lib, error)) return;
  for (const auto& entry : fs::directory_iterator(lib, error)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("python3", 0) != 0) continue;
    out.push_back(entry.path() / "site-packages");
    out.push_back(entry.path() / "dist-packages");
  }
}

}  // namespace

std::string find_minilm_zip() {
  std::vector<fs::path> prefixes = {"/usr/local", "/usr"};
  const auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::string(value) : std::string();
  };
  if (const auto home = env("HOME"); !home.empty()) {
    prefixes.push_back(fs::path(home) / ".local");
    std::error_code error;
    const auto pyenv = fs::path(env("PYENV_ROOT").empty() ? home + "/.pyenv" : env("PYENV_ROOT")) / "versions";
    if (fs::is_directory(pyenv, error)) {
      for (const auto& version : fs::directory_iterator(pyenv, error)) prefixes.push_back(version.path());
    }
  }
  for (const char* variable : {"VIRTUAL_ENV", "CONDA_PREFIX"}) {
    if (const auto prefix = env(variable); !prefix.empty()) prefixes.insert(prefixes.begin(), prefix);
  }
  std::vector<fs::path> folders;
  for (const auto& prefix : prefixes) add_package_dirs(prefix, folders);
  for (const auto& folder : folders) {
    const auto zip = folder / "all_minilm_l6_v2" / "model.zip";
    std::error_code error;
    if (fs::is_regular_file(zip, error)) return zip.string();
  }
  return "";
}

std::vector<std::string> extract_minilm(const std::string& zip_path, const std::string& out_dir) {
  int code = 0;
  std::unique_ptr<zip_t, decltype(&zip_discard)> zip(zip_open(zip_path.c_str(), ZIP_RDONLY, &code), &zip_discard);
  if (!zip) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string message = zip_error_strerror(&error);
    zip_error_fini(&error);
    TORCHZOO_CHECK(false, "{}: cannot open as a zip archive: {}", zip_path, message);
  }
  const fs::path out(out_dir);
  const auto staging = fs::path(out.string() + ".unpacking");
  fs::remove_all(staging);
  fs::create_directories(staging);
  std::vector<std::string> files;
  const auto entries = zip_get_num_entries(zip.get(), 0);
  for (zip_int64_t i = 0; i < entries; ++i) {
    zip_stat_t stat;
    TORCHZOO_CHECK(zip_stat_index(zip.get(), static_cast<zip_uint64_t>(i), 0, &stat) == 0 && stat.name != nullptr,
                   "{}: cannot read entry {}", zip_path, i);
    const std::string name = stat.name;
    const fs::path relative = fs::path(name).lexically_normal();
    TORCHZOO_CHECK(!relative.is_absolute() && !name.empty() && relative.string().rfind("..", 0) != 0,
                   "{}: refusing entry '{}' (outside the folder)", zip_path, name);
    if (name.back() == '/') {
      fs::create_directories(staging / relative);
      continue;
    }
    fs::create_directories((staging / relative).parent_path());
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(zip_fopen_index(zip.get(), static_cast<zip_uint64_t>(i), 0),
                                                            &zip_fclose);
    TORCHZOO_CHECK(file != nullptr, "{}: cannot read '{}'", zip_path, name);
    std::ofstream target(staging / relative, std::ios::binary);
    std::vector<char> buffer(1 << 20);
    zip_uint64_t total = 0;
    for (zip_int64_t n; (n = zip_fread(file.get(), buffer.data(), buffer.size())) > 0;) {
      target.write(buffer.data(), n);
      total += static_cast<zip_uint64_t>(n);
    }
    TORCHZOO_CHECK(target.good() && total == stat.size, "{}: '{}' unpacked {} of {} bytes", zip_path, name, total,
                   stat.size);
    files.push_back(relative.generic_string());
  }
  for (const char* required : {"config.json", "model.safetensors", "tokenizer.json"}) {
    TORCHZOO_CHECK(fs::exists(staging / required), "{}: holds no {} (expected a Hugging Face BERT folder)", zip_path,
                   required);
  }
  fs::remove_all(out);
  fs::create_directories(out.parent_path());
  fs::rename(staging, out);
  return files;
}

}  // namespace torchzoo::tools
