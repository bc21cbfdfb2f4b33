// torchzoo translate --checkpoint F [decoding flags] < source > translations
//
// From a terminal, each line is translated as it comes; from a file or pipe, all
// lines in length-sorted batches with a progress line on stderr.
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"
#include "torchzoo/common/format.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/layers/int8_inference.h"
#include "torchzoo/train/op_profile.h"

namespace torchzoo::cli {
namespace {

struct TranslateArgs {
  std::string checkpoint, device, autocast, profile, quantize = "none";
  train::TranslatorOptions decoding;
  bool quiet = false;
};

int run_translate(const TranslateArgs& args) {
  auto config = checkpoint_config(args.checkpoint);
  const auto device = device_of(config, args.device);
  auto model = families::load_trained(config, args.checkpoint, device);
  const bool int8 = args.quantize == "int8";
  if (int8) {
    // Int8 linears take float32 activations: autocast is off unless asked for, which is an error.
    TORCHZOO_CHECK(device.is_cpu(), "translate --quantize int8: int8 linears run on the CPU, the device is {}",
                   device.str());
    TORCHZOO_CHECK(args.autocast.empty() || args.autocast == "none",
                   "translate --quantize int8 runs with float32 activations; --autocast {} cannot go with it",
                   args.autocast);
    layers::set_int8_inference(*model->module(), true);
  }
  auto translator = model->translator(config);
  torch::NoGradGuard no_grad;
  train::AutocastGuard autocast(device, inference_autocast(config, device, int8 ? "none" : args.autocast).dtype);
  if (::isatty(STDIN_FILENO)) {
    std::string line;
    while (std::getline(std::cin, line)) {
      std::cout << translator.translate({line}, args.decoding).front() << std::endl;
    }
    return 0;
  }
  const auto lines = data::read_lines(std::cin);
  const auto start = std::chrono::steady_clock::now();
  auto progress = [&](int64_t done, int64_t total) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << fmt::format("\rtranslated {}/{} sentences ({:.0f}%) | {:.1f} sentences/s", done, total,
                             100.0 * static_cast<double>(done) / static_cast<double>(total),
                             static_cast<double>(done) / std::max(seconds, 1e-9))
              << std::flush;
  };
  train::OpProfiler profiler;
  if (!args.profile.empty()) profiler.start();
  const auto translations =
      translator.translate(lines, args.decoding, args.quiet ? std::function<void(int64_t, int64_t)>() : progress);
  if (!args.profile.empty()) {
    const auto profile = profiler.stop();
    common::write_file_atomically(
        args.profile,
        fmt::format("profile of translating {} sentences (batch {}{}, beam {}), by self time:\n{}", lines.size(),
                    args.decoding.batch_size(), args.decoding.batch_by_tokens() ? " tokens" : "",
                    args.decoding.beam_size(), profile.table(30)),
        "profile table");
  }
  if (!args.quiet && !lines.empty()) std::cerr << "\n";
  for (const auto& translation : translations) std::cout << translation << '\n';
  std::cout.flush();
  return 0;
}

}  // namespace

Command add_translate(CLI::App& app) {
  auto args = std::make_shared<TranslateArgs>();
  auto* translate = app.add_subcommand("translate", "translate stdin lines with a translation checkpoint");
  translate->add_option("--checkpoint", args->checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  add_device_option(translate, args->device);
  add_autocast_option(translate, args->autocast);
  translate
      ->add_option("--quantize", args->quantize,
                   "int8: dynamically quantized int8 linears on the CPU, as CTranslate2's int8 (default none: "
                   "float32 or --autocast's)")
      ->check(CLI::IsMember({"none", "int8"}));
  translate->add_flag("--quiet", args->quiet, "no progress line on stderr");
  translate->add_option("--profile", args->profile,
                        "write the ops that translating stdin spent its time in (PyTorch's profiler) to this file");
  add_decoding_options(translate, args->decoding);
  return {translate, [args] { return run_translate(*args); }};
}

}  // namespace torchzoo::cli
