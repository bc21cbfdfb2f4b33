// torchzoo decode --checkpoint F "1 2 3 4" [--max-len N]: greedy decoding of token ids.
#include <iostream>
#include <sstream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/format.h"
#include "torchzoo/families/experiment.h"

namespace torchzoo::cli {
namespace {

struct DecodeArgs {
  std::string checkpoint, source, device, autocast;
  int64_t max_len = 0;
};

std::vector<int64_t> parse_tokens(const std::string& text) {
  std::vector<int64_t> tokens;
  std::istringstream stream(text);
  std::string word;
  while (stream >> word) {
    try {
      size_t used = 0;
      tokens.push_back(std::stoll(word, &used));
      if (used != word.size()) throw std::invalid_argument(word);
    } catch (const std::exception&) {
      throw CLI::ValidationError("SOURCE", fmt::format("expected space-separated token ids, got '{}'", word));
    }
  }
  if (tokens.empty()) throw CLI::ValidationError("SOURCE", "expected at least one token id");
  return tokens;
}

int run_decode(const DecodeArgs& args) {
  const auto tokens = parse_tokens(args.source);
  auto config = checkpoint_config(args.checkpoint);
  const auto device = device_of(config, args.device);
  auto model = families::load_trained(config, args.checkpoint, device);
  torch::NoGradGuard no_grad;
  train::AutocastGuard autocast(device, inference_autocast(config, device, args.autocast).dtype);
  std::cout << fmt::format("{}\n", fmt::join(model->decode(config, tokens, args.max_len), " "));
  return 0;
}

}  // namespace

Command add_decode(CLI::App& app) {
  auto args = std::make_shared<DecodeArgs>();
  auto* decode = app.add_subcommand("decode", "greedy-decode token ids with a sequence-to-sequence checkpoint");
  decode->add_option("--checkpoint", args->checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  decode->add_option("SOURCE", args->source, "space-separated source token ids, e.g. \"1 2 3 4\"")->required();
  decode->add_option("--max-len", args->max_len, "output length, start symbol included (default: the source length)")
      ->check(CLI::NonNegativeNumber);
  add_device_option(decode, args->device);
  add_autocast_option(decode, args->autocast);
  return {decode, [args] { return run_decode(*args); }};
}

}  // namespace torchzoo::cli
