#include "torchzoo/train/metrics_log.h"

#include <cmath>
#include <stdexcept>

#include "torchzoo/common/format.h"
#include "torchzoo/common/json.h"

namespace torchzoo::train {
namespace {

using common::json_string;

std::string json_value(const MetricsLog::Value& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return std::isfinite(*d) ? fmt::format("{}", *d) : "null";
  return json_string(std::get<std::string>(value));
}

}  // namespace

MetricsLog::MetricsLog(const std::string& path) {
  if (path.empty()) return;
  stream_.open(path, std::ios::app);
  if (!stream_) throw std::runtime_error(fmt::format("cannot open metrics log '{}' for writing", path));
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
  stream_ << format(event, fields) << '\n';
  stream_.flush();
}

}  // namespace torchzoo::train
