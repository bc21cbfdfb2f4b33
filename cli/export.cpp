// torchzoo export --checkpoint F --format torchscript|safetensors -o OUT
#include <torch/script.h>

#include <filesystem>
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/format.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/export/safetensors.h"
#include "torchzoo/train/export/torchscript_export.h"

namespace torchzoo::cli {
namespace {

struct ExportArgs {
  std::string checkpoint, format = "torchscript", out;
};

int run_export(const ExportArgs& args) {
  auto state = train::read_checkpoint_state(args.checkpoint);
  auto config = Config::parse(state.config, args.checkpoint + ":config");
  const auto model_name = config.section("model").require<std::string>("name");
  auto model = families::load_trained(config, args.checkpoint, torch::kCPU);
  const auto& module = *model->module();
  if (args.format == "safetensors") {
    // Under the reference's names; a family may add files beside (a BERT: config.json, tokenizer.json).
    const auto [tensors, files] = model->safetensors_export(config);
    const auto folder = std::filesystem::path(args.out).parent_path();
    for (const auto& [name, content] : files) {
      common::write_file_atomically((folder / name).string(), content, name);
    }
    train::write_safetensors(
        args.out, tensors,
        {{"format", "pt"}, {train::kMetadataModel, model_name}, {train::kMetadataConfig, state.config}});
    std::vector<std::string> names;
    for (const auto& [name, content] : files) names.push_back((folder / name).string());
    std::cout << fmt::format("exported {} ({} tensors) to {}{}\n", model_name, tensors.size(), args.out,
                             names.empty() ? "" : fmt::format(", with {}", fmt::join(names, " and ")));
    return 0;
  }
  // The archive carries its config beside what the family adds (decoding symbols, tokenizers, classes).
  auto options = model->script_export_options(config);
  auto files = options.extra_files();
  files["config.yaml"] = state.config;
  options.extra_files(files);
  train::export_torchscript(module, args.out, options);
  // Read back as a deployment would, and list what it offers.
  auto loaded = torch::jit::load(args.out);
  std::vector<std::string> methods;
  for (const auto& method : loaded.get_methods()) methods.push_back(method.name());
  std::vector<std::string> names;
  for (const auto& [name, bytes] : options.extra_files()) names.push_back(name);
  std::cout << fmt::format("exported {} to {} (TorchScript)\nmethods: {}\nfiles: {}\n", model_name, args.out,
                           fmt::join(methods, ", "), fmt::join(names, ", "));
  return 0;
}

}  // namespace

Command add_export(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  auto* command = app.add_subcommand("export", "write a checkpoint's model as TorchScript or as safetensors weights");
  command->add_option("--checkpoint", args->checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  command
      ->add_option("--format", args->format,
                   "torchscript (default: a module with forward and decoding methods, for torch.jit.load / "
                   "torch::jit::load) or safetensors (the weights under the Python references' names)")
      ->check(CLI::IsMember({"torchscript", "safetensors"}));
  command->add_option("-o,--out", args->out, "output file, e.g. model.pt or model.safetensors")->required();
  return {command, [args] { return run_export(*args); }};
}

}  // namespace torchzoo::cli
