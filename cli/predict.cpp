// torchzoo predict --checkpoint F [INPUT...] [--top K]: classes of images (INPUT) or of stdin lines.
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/families/experiment.h"

namespace torchzoo::cli {
namespace {

struct PredictArgs {
  std::string checkpoint, device, autocast;
  families::PredictRequest request;
};

int run_predict(const PredictArgs& args) {
  auto config = checkpoint_config(args.checkpoint);
  const auto device = device_of(config, args.device);
  auto model = families::load_trained(config, args.checkpoint, device);
  torch::NoGradGuard no_grad;
  train::AutocastGuard autocast(device, inference_autocast(config, device, args.autocast).dtype);
  model->predict(config, args.request, std::cin, std::cout);
  return 0;
}

}  // namespace

Command add_predict(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  auto* predict = app.add_subcommand("predict", "classify images with an image-classification checkpoint");
  predict->add_option("--checkpoint", args->checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  predict->add_option("INPUT", args->request.inputs,
                      "image classifiers: PNG files, or IDX_FILE:INDEX for an image of an IDX file; text "
                      "classifiers read lines on stdin");
  predict->add_option("--top", args->request.top, "classes to print per input (default 3 for images, 1 for texts)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  add_device_option(predict, args->device);
  add_autocast_option(predict, args->autocast);
  return {predict, [args] { return run_predict(*args); }};
}

}  // namespace torchzoo::cli
