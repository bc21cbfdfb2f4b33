// torchzoo translate --checkpoint F [decoding flags] < source > translations
//
// From a terminal, each line is translated as it comes; from a file or pipe, all
// lines in length-sorted batches, with a progress bar on stderr when it is a terminal
// (else one line when done).
//
// --n-best K prints K lines per sentence, best first, in Moses' n-best format:
//   SENTENCE_INDEX ||| TRANSLATION ||| LogProb=LOG_P ||| SCORE
// (SCORE is beam search's length-normalised score). --top-k, --top-p and --temperature
// sample each next token instead (greedy decoding; --seed).
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"
#include "torchzoo/common/format.h"
#include "torchzoo/common/progress_bar.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/layers/int8_inference.h"
#include "torchzoo/train/op_profile.h"

namespace torchzoo::cli {
namespace {

struct TranslateArgs {
  std::string checkpoint, device, autocast, profile, quantize = "none";
  train::TranslatorOptions decoding;
  train::SamplingOptions sampling;
  bool sample = false;  ///< a sampling flag was given
  int64_t n_best = 0;   ///< 0: plain translations
  bool quiet = false;
};

/// Moses' n-best lines of sentence `index`.
std::string n_best_lines(size_t index, const std::vector<train::ScoredTranslation>& list) {
  std::string lines;
  for (const auto& hypothesis : list) {
    lines += fmt::format("{} ||| {} ||| LogProb={:.4f} ||| {:.4f}\n", index, hypothesis.text, hypothesis.log_prob,
                         hypothesis.score);
  }
  return lines;
}

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
  auto decoding = args.decoding;
  if (args.sample) decoding.sampling(args.sampling);
  if (args.n_best > 0) {
    if (args.sample)
      throw families::UsageError("--n-best", "n-best lists come from beam search; sampling scores nothing");
    if (args.n_best > decoding.beam_size()) {
      throw families::UsageError("--n-best", fmt::format("at most the beam size ({}), got {}; raise --beam",
                                                         decoding.beam_size(), args.n_best));
    }
    decoding.n_best(args.n_best);
  }
  if (args.sample && decoding.beam_size() > 1) {
    throw families::UsageError("--beam",
                               "sampling (--top-k, --top-p, --temperature) draws one token at a time: --beam 1");
  }
  torch::NoGradGuard no_grad;
  train::AutocastGuard autocast(device, inference_autocast(config, device, int8 ? "none" : args.autocast).dtype);
  if (::isatty(STDIN_FILENO)) {
    std::string line;
    for (size_t index = 0; std::getline(std::cin, line); ++index) {
      if (args.n_best > 0) {
        std::cout << n_best_lines(index, translator.translate_n_best({line}, decoding).front()) << std::flush;
      } else {
        std::cout << translator.translate({line}, decoding).front() << std::endl;
      }
    }
    return 0;
  }
  const auto lines = data::read_lines(std::cin);
  const auto start = std::chrono::steady_clock::now();
  common::ProgressBar bar("translating", static_cast<int64_t>(lines.size()), "sent",
                          common::ProgressBarOptions().enabled(!args.quiet && common::stderr_is_terminal()));
  const auto progress = [&](int64_t done, int64_t) { bar.update(done); };
  train::OpProfiler profiler;
  if (!args.profile.empty()) profiler.start();
  std::vector<std::string> translations;
  if (args.n_best > 0) {
    const auto lists = translator.translate_n_best(lines, decoding, progress);
    for (size_t i = 0; i < lists.size(); ++i) translations.push_back(n_best_lines(i, lists[i]));
  } else {
    translations = translator.translate(lines, decoding, progress);
  }
  bar.finish();
  if (!args.profile.empty()) {
    const auto profile = profiler.stop();
    common::write_file_atomically(
        args.profile,
        fmt::format("profile of translating {} sentences (batch {}{}, beam {}), by self time:\n{}", lines.size(),
                    decoding.batch_size(), decoding.batch_by_tokens() ? " tokens" : "", decoding.beam_size(),
                    profile.table(30)),
        "profile table");
  }
  if (!args.quiet && !bar.enabled()) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << fmt::format("translated {} sentences in {:.1f} s ({:.1f} sentences/s)\n", lines.size(), seconds,
                             static_cast<double>(lines.size()) / std::max(seconds, 1e-9));
  }
  for (const auto& translation : translations) std::cout << translation << (args.n_best > 0 ? "" : "\n");
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
  translate->add_flag("--quiet", args->quiet, "no progress on stderr");
  translate
      ->add_option("--n-best", args->n_best,
                   "print this many translations per sentence with their scores (Moses n-best format; at most "
                   "--beam)")
      ->check(CLI::Range(int64_t{1}, int64_t{64}));
  add_sampling_options(translate, args->sampling, &args->sample);
  translate->add_option_function<uint64_t>(
      "--seed", [args](uint64_t seed) { args->decoding.seed(seed); }, "sampling seed (default 0)");
  translate->add_option("--profile", args->profile,
                        "write the ops that translating stdin spent its time in (PyTorch's profiler) to this file");
  add_decoding_options(translate, args->decoding);
  return {translate, [args] { return run_translate(*args); }};
}

}  // namespace torchzoo::cli
