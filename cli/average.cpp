// torchzoo average -o OUT CHECKPOINT...: the mean of the checkpoints' weights.
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/format.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/train/checkpoint_average.h"

namespace torchzoo::cli {
namespace {

struct AverageArgs {
  std::vector<std::string> checkpoints;
  std::string out;
};

int run_average(const AverageArgs& args) {
  auto config = checkpoint_config(args.checkpoints.front());
  auto model = families::build_model(config, /*with_init_from=*/false);
  train::average_checkpoints(args.checkpoints, *model, args.out);
  std::cout << fmt::format("averaged {} checkpoints into {}\n", args.checkpoints.size(), args.out);
  return 0;
}

}  // namespace

Command add_average(CLI::App& app) {
  auto args = std::make_shared<AverageArgs>();
  auto* average = app.add_subcommand("average", "average the weights of checkpoints of one model");
  average->add_option("CHECKPOINT", args->checkpoints, "checkpoints")->required()->check(CLI::ExistingFile);
  average->add_option("-o,--out", args->out, "output checkpoint")->required();
  return {average, [args] { return run_average(*args); }};
}

}  // namespace torchzoo::cli
