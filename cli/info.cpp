// torchzoo info CONFIG [--set K=V]...: the model's modules and parameter counts.
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

int run_info(const ConfigArgs& args) {
  auto config = load_config(args);
  const auto name = config.section("model").require<std::string>("name");
  auto model = families::build_model(config);
  std::ostringstream tree;
  tree << *model;
  std::cout << fmt::format("config: {}\nmodel: {}\n{}\n\n{}", args.path, name, tree.str(), parameter_table(*model));
  return 0;
}

}  // namespace

Command add_info(CLI::App& app) {
  auto args = std::make_shared<ConfigArgs>();
  auto* info = app.add_subcommand("info", "print a config's model: modules and parameter counts");
  add_config_args(info, *args);
  return {info, [args] { return run_info(*args); }};
}

}  // namespace torchzoo::cli
