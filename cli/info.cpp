// torchzoo info CONFIG [--set K=V]...: the model's modules and parameter counts.
// torchzoo info CONFIG --resolved: the config with every default written in, as a checkpoint
// stores it (config_resolved); building the run reads every key, so the data must be there.
#include <iostream>
#include <sstream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/format.h"
#include "torchzoo/families/experiment.h"

namespace torchzoo::cli {
namespace {

std::string parameter_table(const torch::nn::Module& model) {
  std::string table = "parameters:\n";
  for (const auto& child : model.named_children()) {
    table += fmt::format("  {:<24}{:>14}\n", child.key(), thousands(count_parameters(*child.value())));
  }
  return table + fmt::format("  {:<24}{:>14}\n", "total", thousands(count_parameters(model)));
}

struct InfoArgs {
  ConfigArgs config;
  bool resolved = false;
};

int run_info(const InfoArgs& info) {
  const auto& args = info.config;
  auto config = load_config(args);
  if (info.resolved) {
    families::build_experiment(config);
    std::cout << config.resolved_yaml();
    return 0;
  }
  const auto name = config.section("model").require<std::string>("name");
  auto model = families::build_model(config);
  std::ostringstream tree;
  tree << *model;
  std::cout << fmt::format("config: {}\nmodel: {}\n{}\n\n{}", args.path, name, tree.str(), parameter_table(*model));
  return 0;
}

}  // namespace

Command add_info(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  auto* info = app.add_subcommand("info", "print a config's model: modules and parameter counts");
  add_config_args(info, args->config);
  info->add_flag("--resolved", args->resolved,
                 "print the config with every default applied instead, as checkpoints store it (builds the run: "
                 "the data must be prepared)");
  return {info, [args] { return run_info(*args); }};
}

}  // namespace torchzoo::cli
