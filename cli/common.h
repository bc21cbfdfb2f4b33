#pragma once
// What several commands share: reading a config with its --set overrides, the
// config a checkpoint carries, --device, and the decoding flags.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/types.h>

#include "torchzoo/configs/config.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/decode/translator.h"

namespace torchzoo::cli {

using configs::Config;

/// CONFIG, --set and --device of the commands that read a config file.
struct ConfigArgs {
  std::string path;
  std::vector<std::string> overrides;
  std::string device;
};

/// Declares CONFIG (an existing file) and the repeatable --set KEY=VALUE.
void add_config_args(CLI::App* command, ConfigArgs& args);
/// Declares --device into `device`.
void add_device_option(CLI::App* command, std::string& device);
/// Declares --autocast (auto, none, bf16 or fp16) into `autocast`.
void add_autocast_option(CLI::App* command, std::string& autocast);
/// Declares --beam, --length-penalty, --max-len-a, --max-len-b, --batch-size and --no-cache.
void add_decoding_options(CLI::App* command, train::TranslatorOptions& options);

/// Declares --temperature, --top-k and --top-p into `sampling`; `given` (if not null) is set when
/// any of them is on the command line.
void add_sampling_options(CLI::App* command, train::SamplingOptions& sampling, bool* given = nullptr);

/// A YAML single-quoted scalar, so paths with ':' or '#' survive --set parsing.
std::string yaml_quote(const std::string& text);
/// The config file with its overrides (and --device as train.device) applied.
Config load_config(const ConfigArgs& args);
/// The config saved in a checkpoint.
Config checkpoint_config(const std::string& checkpoint);
/// --device, else the config's train.device, else auto.
torch::Device device_of(const Config& config, const std::string& flag);

/// The precision of a command that runs a trained model: --autocast (`flag`), else the config's
/// train.autocast, else auto, resolved for `device`. Prints the warning of a slow choice on stderr.
train::AutocastChoice inference_autocast(const Config& config, torch::Device device, const std::string& flag);

/// `n` with thousands separators: 14,731,787.
std::string thousands(int64_t n);
/// Parameters of `module`, tied weights counted once.
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace torchzoo::cli
