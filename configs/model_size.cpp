#include "torchzoo/configs/model_size.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "torchzoo/common/format.h"

namespace torchzoo::configs {

double transformer_layers_size(double layers, double d_model, double d_ff, double attentions) {
  const double attention = 4 * (d_model * d_model + d_model);                // query, key, value, output
  const double feed_forward = d_model * d_ff + d_ff + d_ff * d_model + d_model;
  const double norms = (attentions + 1) * 2 * d_model;
  return layers * (attentions * attention + feed_forward + norms);
}

double available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream fields(line.substr(13));
      double kib = 0;
      if (fields >> kib) return kib * 1024.0;
    }
  }
  return static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
}

namespace {

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 6) {
    bytes /= 1000;
    ++unit;
  }
  return unit == 6 && bytes >= 1000 ? fmt::format("{:.1e} EB", bytes) : fmt::format("{:.1f} {}", bytes, units[unit]);
}

}  // namespace

void check_model_fits(const Section& model, double values, const SizeKeys& keys) {
  const double needed = values * 4.0;  // fp32, weights alone
  const double available = available_memory_bytes();
  if (needed <= available) return;
  std::vector<std::string> named;
  for (const auto& [key, value] : keys) named.push_back(fmt::format("{}={:g}", key, value));
  model.fail(keys.front().first,
             fmt::format("a model of {} ({}) would hold about {:.3g} parameters and buffers: {} in fp32 for the "
                         "weights alone (training needs about 4x that), but this machine has {} of memory "
                         "available; make it smaller",
                         model.path(), fmt::join(named, ", "), values, bytes_text(needed), bytes_text(available)));
}

}  // namespace torchzoo::configs
