// torchzoo generate --checkpoint F [--prompt TEXT] [sampling flags]: a language model's continuation.
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/families/experiment.h"

namespace torchzoo::cli {
namespace {

struct GenerateArgs {
  std::string checkpoint, device, autocast;
  families::GenerateRequest request;
  train::SamplingOptions sampling;
};

int run_generate(const GenerateArgs& args) {
  auto config = checkpoint_config(args.checkpoint);
  const auto device = device_of(config, args.device);
  auto model = families::load_trained(config, args.checkpoint, device);
  train::AutocastGuard autocast(device, inference_autocast(config, device, args.autocast).dtype);
  auto request = args.request;
  request.options.sampling(args.sampling);
  std::cout << model->generate(config, request) << std::endl;
  return 0;
}

}  // namespace

Command add_generate(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto& sampling = args->sampling;
  auto& generation = args->request.options;
  auto* generate = app.add_subcommand("generate", "continue a prompt with a language model checkpoint");
  generate->add_option("--checkpoint", args->checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  generate->add_option("--prompt", args->request.prompt, "text to continue (default: none, the model starts from bos)");
  generate
      ->add_option_function<double>(
          "--temperature", [&sampling](double t) { sampling.temperature(t); },
          "sampling temperature (default 1; 0: greedy)")
      ->check(CLI::Range(0.0, 100.0));
  generate
      ->add_option_function<int64_t>(
          "--top-k", [&sampling](int64_t k) { sampling.top_k(k); }, "sample among the k most probable tokens (0: all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  generate
      ->add_option_function<double>(
          "--top-p", [&sampling](double p) { sampling.top_p(p); }, "sample within the nucleus of this probability")
      ->check(CLI::Range(0.000001, 1.0));
  generate->add_option_function<uint64_t>(
      "--seed", [&generation](uint64_t seed) { generation.seed(seed); }, "sampling seed (default 0)");
  generate
      ->add_option_function<int64_t>(
          "--max-tokens", [&generation](int64_t n) { generation.max_tokens(n); }, "tokens to generate (default 64)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  generate->add_flag_function(
      "--no-cache", [&generation](int64_t) { generation.use_cache(false); },
      "re-run the model on the whole prefix each step (slower)");
  generate->add_flag("--ignore-eos", args->request.ignore_eos,
                     "generate --max-tokens tokens even past the end-of-text token (for speed measurements)");
  add_device_option(generate, args->device);
  add_autocast_option(generate, args->autocast);
  return {generate, [args] { return run_generate(*args); }};
}

}  // namespace torchzoo::cli
