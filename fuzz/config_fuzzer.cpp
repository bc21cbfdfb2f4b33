// libFuzzer target: the config loader (configs/config.h) with --set overrides, and
// the readers of the sections every family shares (train, optimizer, scheduler, loss).
// The input is YAML text, then NUL-separated --set assignments.
// Promised: a config whose to_yaml() reads back to the same keys and values, and whose
// resolved_yaml() parses, or an error naming the file (fuzz.yaml) or the --set; never a
// hang on aliases.
#include <torch/torch.h>

#include "fuzz_support.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/configs/registries.h"
#include "torchzoo/configs/trainer_options.h"

using namespace torchzoo;
using configs::Config;

namespace {

void check_reads_back(const Config& config) {
  const auto yaml = config.to_yaml();
  std::map<std::string, std::string> again;
  try {
    again = Config::parse(yaml, "written.yaml").flatten();
  } catch (const std::exception& e) {
    fuzz::finding(std::string("to_yaml() does not parse: ") + e.what());
  }
  const auto flat = config.flatten();
  if (again == flat) return;
  std::string diff;
  for (const auto& [key, value] : flat) {
    const auto it = again.find(key);
    if (it == again.end() || it->second != value) {
      diff = key + ": " + value + " before, " + (it == again.end() ? "absent" : it->second) + " after";
      break;
    }
  }
  fuzz::finding("to_yaml() reads back to other keys or values (" + (diff.empty() ? "more keys" : diff) + ")\n" + yaml);
}

/// resolved_yaml() (the config with the defaults the readers applied) parses. That it keeps the
/// config's values is for tests/configs to check: flatten()'s dotted keys cannot tell a key holding
/// a dot from a nested one, which makes a key-by-key comparison of hostile configs ambiguous.
void check_resolved_parses(const Config& config) {
  try {
    Config::parse(config.resolved_yaml(), "resolved.yaml");
  } catch (const std::exception& e) {
    fuzz::finding(std::string("resolved_yaml() does not parse: ") + e.what());
  }
}

/// What build_experiment reads besides the model and data sections.
void read_shared_sections(const Config& config) {
  configs::read_run_options(config);
  configs::read_autocast(config, torch::kCPU);
  configs::read_trainer_options(config, fuzz::scratch_dir() + "/run");
  torch::nn::Linear model(2, 2);
  if (auto optimizer = config.root().optional_section("optimizer")) {
    configs::lookup(configs::optimizer_registry(), *optimizer)(*optimizer, *model);
  }
  if (auto scheduler = config.root().optional_section("scheduler")) {
    configs::lookup(configs::scheduler_registry(), *scheduler)(*scheduler, configs::ScheduleContext{16});
  }
  if (auto loss = config.root().optional_section("loss")) {
    configs::lookup(configs::loss_registry(), *loss)(*loss, configs::LossContext{10, 0});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::split_at_nul(fuzz::bytes(data, size));
  fuzz::expect_error_naming({"fuzz.yaml", "--set"}, [&] {
    auto config = Config::parse(parts[0], "fuzz.yaml");
    for (size_t i = 1; i < parts.size(); ++i) config.apply_override(parts[i]);
    check_reads_back(config);
    read_shared_sections(config);
    check_resolved_parses(config);
  });
  return 0;
}
