// torchzoo generate --checkpoint F [--prompt TEXT] [sampling flags]: a language model's continuation.
// torchzoo generate --checkpoint F --input prompts.txt (or - for stdin): one continuation per line,
// prompts generated --batch-size at a time.
#include <algorithm>
#include <fstream>
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/format.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/families/experiment.h"

namespace torchzoo::cli {
namespace {

struct GenerateArgs {
  std::string checkpoint, device, autocast;
  families::GenerateRequest request;
  train::SamplingOptions sampling;
  std::string prompt, input;
};

std::vector<std::string> read_prompts(const std::string& input) {
  if (input == "-") return data::read_lines(std::cin);
  std::ifstream file(input, std::ios::binary);
  if (!file) throw std::runtime_error(fmt::format("--input {}: cannot read the prompts file", input));
  return data::read_lines(file);
}

int run_generate(const GenerateArgs& args) {
  auto config = checkpoint_config(args.checkpoint);
  const auto device = device_of(config, args.device);
  auto model = families::load_trained(config, args.checkpoint, device);
  train::AutocastGuard autocast(device, inference_autocast(config, device, args.autocast).dtype);
  auto request = args.request;
  request.options.sampling(args.sampling);
  if (args.input.empty()) {
    request.prompts = {args.prompt};
    std::cout << model->generate(config, request).front() << std::endl;
    return 0;
  }
  request.prompts = read_prompts(args.input);
  for (auto text : model->generate(config, request)) {
    std::replace(text.begin(), text.end(), '\n', ' ');  // one line per prompt
    std::cout << text << '\n';
  }
  std::cout.flush();
  return 0;
}

}  // namespace

Command add_generate(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto& sampling = args->sampling;
  auto& generation = args->request.options;
  auto* generate = app.add_subcommand("generate", "continue a prompt with a language model checkpoint");
  generate->add_option("--checkpoint", args->checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  auto* prompt =
      generate->add_option("--prompt", args->prompt, "text to continue (default: none, the model starts from bos)");
  generate->add_option("--input", args->input, "continue each line of this file (- for stdin), one output line each")
      ->excludes(prompt);
  generate->add_option("--batch-size", args->request.batch_size, "prompts generated together (default 32)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  add_sampling_options(generate, sampling);
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
