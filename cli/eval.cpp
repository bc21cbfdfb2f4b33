// torchzoo eval CONFIG --checkpoint F [--split valid|test] [decoding flags]: the family's report.
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/families/experiment.h"

namespace torchzoo::cli {
namespace {

struct EvalArgs {
  ConfigArgs config;
  families::EvalRequest request;
  std::string autocast;
};

int run_eval(const EvalArgs& args) {
  auto config = load_config(args.config);
  const auto device = device_of(config, args.config.device);
  auto model = families::load_trained(config, args.request.checkpoint, device);
  torch::NoGradGuard no_grad;
  train::AutocastGuard autocast(device, inference_autocast(config, device, args.autocast).dtype);
  auto request = args.request;
  request.config_path = args.config.path;
  model->eval(config, request, std::cout);
  return 0;
}

}  // namespace

Command add_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* eval = app.add_subcommand("eval", "evaluate a checkpoint on the config's validation data");
  add_config_args(eval, args->config);
  eval->add_option("--checkpoint", args->request.checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  add_device_option(eval, args->config.device);
  add_autocast_option(eval, args->autocast);
  eval->add_option("--split", args->request.split, "valid (default) or test (image classification, translation)")
      ->check(CLI::IsMember({"valid", "test"}));
  add_decoding_options(eval, args->request.decoding);
  return {eval, [args] { return run_eval(*args); }};
}

}  // namespace torchzoo::cli
