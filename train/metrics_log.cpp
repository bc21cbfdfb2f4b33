#include "torchzoo/train/metrics_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/format.h"
#include "torchzoo/common/json.h"
#include "torchzoo/data/text_file.h"

namespace torchzoo::train {
namespace {

using common::json_string;

std::string json_value(const MetricsLog::Value& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return std::isfinite(*d) ? fmt::format("{}", *d) : "null";
  return json_string(std::get<std::string>(value));
}

}  // namespace

MetricsLog::MetricsLog(const std::string& path) : path_(path) {
  if (path.empty()) return;
  common::check_replaceable(path, "metrics log");
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw common::WriteError(fmt::format("cannot write metrics log '{}': {}", path, std::strerror(errno)));
  }
}

MetricsLog::~MetricsLog() {
  if (fd_ >= 0) ::close(fd_);
}

MetricsLog::MetricsLog(MetricsLog&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

MetricsLog& MetricsLog::operator=(MetricsLog&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

std::string MetricsLog::format(const std::string& event, const Fields& fields) {
  std::string line = "{\"event\": " + json_string(event);
  for (const auto& [key, value] : fields) {
    line += ", " + json_string(key) + ": " + json_value(value);
  }
  return line + "}";
}

void MetricsLog::write(const std::string& event, const Fields& fields) {
  if (!enabled()) return;
  const auto line = format(event, fields) + '\n';
  // One write() per record: with O_APPEND a record is never interleaved, and a kill leaves at
  // most one torn last line, which keep_until_step removes.
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t written = ::write(fd_, line.data() + done, line.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      throw common::WriteError(fmt::format("cannot write metrics log '{}': {}", path_,
                                           std::strerror(written < 0 ? errno : EIO)));
    }
    done += static_cast<size_t>(written);
  }
}

int64_t MetricsLog::keep_until_step(const std::string& path, int64_t step) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return 0;
  const auto content = data::read_text_file(path, "metrics log");
  const bool torn = !content.empty() && content.back() != '\n';
  std::string kept;
  int64_t dropped = 0;
  const auto lines = data::split_lines(content);
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool last_torn = torn && i + 1 == lines.size();
    const auto record = nlohmann::json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
    bool keep = !last_torn && record.is_object();
    if (keep && record.contains("step") && record["step"].is_number_integer()) {
      const auto at = record["step"].get<int64_t>();
      keep = record.value("event", "") == "skip" ? at < step : at <= step;
    }
    if (keep) {
      kept.append(lines[i]).push_back('\n');
    } else {
      ++dropped;
    }
  }
  if (dropped > 0) common::write_file_atomically(path, kept, "metrics log");
  return dropped;
}

}  // namespace torchzoo::train
