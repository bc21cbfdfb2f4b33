// torchzoo bleu REF... < HYP [-m bleu chrf]: corpus BLEU (and chrF) as `sacrebleu REF... < HYP
// -m bleu chrf` computes and prints them: one JSON object, or a list of them for several metrics.
#include <fstream>
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/common/format.h"
#include "torchzoo/train/metrics/bleu.h"
#include "torchzoo/train/metrics/chrf.h"

namespace torchzoo::cli {
namespace {

struct BleuArgs {
  std::vector<std::string> refs;
  std::string format = "json";
  std::vector<std::string> metrics{"bleu"};
  int width = 1;
  int chrf_word_order = 0;
  bool chrf_lowercase = false;
  train::BleuOptions options;
};

int run_bleu(const BleuArgs& args) {
  const auto hypotheses = train::read_lines(std::cin, "stdin");
  std::vector<std::vector<std::string>> references;
  for (const auto& path : args.refs) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::runtime_error(fmt::format("cannot read reference file '{}'", path));
    references.push_back(train::read_lines(file, path));
    if (references.back().size() != hypotheses.size()) {
      throw std::invalid_argument(fmt::format("the reference file '{}' has {} lines, the hypotheses on stdin {}", path,
                                              references.back().size(), hypotheses.size()));
    }
  }
  const bool json = args.format == "json";
  std::vector<std::string> scores;
  for (const auto& metric : args.metrics) {
    if (metric == "bleu") {
      const auto bleu = train::corpus_bleu(hypotheses, references, args.options);
      scores.push_back(json ? bleu.json(args.width) : bleu.text(args.width));
    } else {
      train::ChrfOptions options;
      options.lowercase = args.chrf_lowercase;
      options.word_order = args.chrf_word_order;
      const auto chrf = train::corpus_chrf(hypotheses, references, options);
      scores.push_back(json ? chrf.json(args.width) : chrf.text(args.width));
    }
  }
  // sacreBLEU prints one metric's JSON alone and several as a list.
  if (json && scores.size() > 1) {
    std::cout << "[\n" << fmt::format("{}", fmt::join(scores, ",\n")) << "\n]\n";
  } else {
    for (const auto& score : scores) std::cout << score << "\n";
  }
  return 0;
}

}  // namespace

Command add_bleu(CLI::App& app) {
  auto args = std::make_shared<BleuArgs>();
  auto* bleu = app.add_subcommand("bleu", "corpus BLEU of stdin against reference files, as sacreBLEU computes it");
  bleu->add_option("REF", args->refs, "reference files, one sentence per line")->required()->check(CLI::ExistingFile);
  bleu->add_option("-f,--format", args->format, "json (sacreBLEU's default) or text")
      ->check(CLI::IsMember({"json", "text"}));
  bleu->add_option("--tokenize", args->options.tokenize, "13a (default) or none")->check(CLI::IsMember({"13a", "none"}));
  bleu->add_flag("--lowercase", args->options.lowercase, "case-insensitive BLEU (sacreBLEU's -lc)");
  bleu->add_option("-m,--metrics", args->metrics, "bleu (default) and/or chrf, as sacreBLEU's -m")
      ->check(CLI::IsMember({"bleu", "chrf"}));
  bleu->add_option("-w,--width", args->width, "decimals of the scores (default 1)")->check(CLI::Range(0, 17));
  bleu->add_option("--chrf-word-order", args->chrf_word_order, "word n-gram orders of chrF (default 0; 2: chrF++)")
      ->check(CLI::Range(0, 10));
  bleu->add_flag("--chrf-lowercase", args->chrf_lowercase,
                 "case-insensitive chrF (as sacreBLEU, apart from --lowercase)");
  return {bleu, [args] { return run_bleu(*args); }};
}

}  // namespace torchzoo::cli
