#include "torchzoo/cli/common.h"

#include <iostream>

#include "torchzoo/common/format.h"
#include "torchzoo/configs/trainer_options.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/device.h"

namespace torchzoo::cli {

void add_config_args(CLI::App* command, ConfigArgs& args) {
  command->add_option("CONFIG", args.path, "YAML config, e.g. configs/copy_task.yaml")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--set", args.overrides, "override a config value: section.key=value (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
}

void add_device_option(CLI::App* command, std::string& device) {
  command->add_option("--device", device, "cpu, cuda, cuda:N or auto");
}

void add_autocast_option(CLI::App* command, std::string& autocast) {
  command
      ->add_option("--autocast", autocast,
                   "mixed precision: auto (bf16 where the hardware runs it natively, else fp32), none, bf16 or fp16 "
                   "(default: the config's train.autocast, else auto)")
      ->check(CLI::IsMember({"auto", "none", "bf16", "fp16"}));
}

void add_sampling_options(CLI::App* command, train::SamplingOptions& sampling, bool* given) {
  const auto note = [given] {
    if (given) *given = true;
  };
  command
      ->add_option_function<double>(
          "--temperature",
          [&sampling, note](double t) {
            sampling.temperature(t);
            note();
          },
          "sampling temperature (default 1; 0: the most probable token)")
      ->check(CLI::Range(0.0, 100.0));
  command
      ->add_option_function<int64_t>(
          "--top-k",
          [&sampling, note](int64_t k) {
            sampling.top_k(k);
            note();
          },
          "sample among the k most probable tokens (0: all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  command
      ->add_option_function<double>(
          "--top-p",
          [&sampling, note](double p) {
            sampling.top_p(p);
            note();
          },
          "sample within the nucleus of this probability")
      ->check(CLI::Range(0.000001, 1.0));
}

void add_decoding_options(CLI::App* command, train::TranslatorOptions& options) {
  command
      ->add_option_function<int64_t>(
          "--beam", [&options](int64_t beam) { options.beam_size(beam); }, "beam size (default 1: greedy)")
      ->check(CLI::Range(int64_t{1}, int64_t{64}));
  command
      ->add_option_function<double>(
          "--length-penalty", [&options](double alpha) { options.length_penalty(alpha); },
          "beam search length penalty alpha (default 0.6; 0: none)")
      ->check(CLI::Range(0.0, 10.0));
  command
      ->add_option_function<double>(
          "--max-len-a", [&options](double a) { options.max_len_a(a); },
          "longest output: a * source tokens + b (default a 1.5)")
      ->check(CLI::Range(0.0, 100.0));
  command
      ->add_option_function<int64_t>(
          "--max-len-b", [&options](int64_t b) { options.max_len_b(b); }, "(default b 10)")
      ->check(CLI::Range(int64_t{0}, int64_t{10000}));
  command
      ->add_option_function<int64_t>(
          "--batch-size", [&options](int64_t n) { options.batch_size(n); },
          "sentences decoded together, or source tokens with --batch-type tokens (default 64)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  command
      ->add_option_function<std::string>(
          "--batch-type", [&options](const std::string& type) { options.batch_by_tokens(type == "tokens"); },
          "what --batch-size counts: examples (sentences; the default) or tokens (source tokens with padding, "
          "as CTranslate2's batch_type)")
      ->check(CLI::IsMember({"examples", "tokens"}));
  command->add_flag_function(
      "--no-cache", [&options](int64_t) { options.use_cache(false); },
      "re-run the decoder on the whole prefix each step (the reference's way; slower)");
}

std::string yaml_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

Config load_config(const ConfigArgs& args) {
  auto config = Config::load(args.path);
  for (const auto& assignment : args.overrides) config.apply_override(assignment);
  if (!args.device.empty()) config.apply_override("train.device=" + yaml_quote(args.device));
  return config;
}

Config checkpoint_config(const std::string& checkpoint) {
  auto state = train::read_checkpoint_state(checkpoint);
  return Config::parse(state.config, checkpoint + ":config");
}

torch::Device device_of(const Config& config, const std::string& flag) {
  if (!flag.empty()) return train::select_device(flag);
  auto train = config.root().optional_section("train");
  return train::select_device(train ? train->get("device", "auto") : "auto");
}

train::AutocastChoice inference_autocast(const Config& config, torch::Device device, const std::string& flag) {
  auto choice = configs::read_autocast(config, device, flag);
  if (!choice.warning.empty()) std::cerr << choice.warning << std::endl;
  return choice;
}

std::string thousands(int64_t n) {
  auto digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : layers::unique_parameters(module)) total += p.numel();  // tied weights once
  return total;
}

}  // namespace torchzoo::cli
