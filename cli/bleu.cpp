// torchzoo bleu REF... < HYP: corpus BLEU as `sacrebleu REF... < HYP` computes and prints it.
#include <fstream>
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/common/format.h"
#include "torchzoo/train/metrics/bleu.h"

namespace torchzoo::cli {
namespace {

struct BleuArgs {
  std::vector<std::string> refs;
  std::string format = "json";
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
  auto score = train::corpus_bleu(hypotheses, references, args.options);
  std::cout << (args.format == "json" ? score.json() : score.text()) << "\n";
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
  bleu->add_flag("--lowercase", args->options.lowercase, "case-insensitive BLEU");
  return {bleu, [args] { return run_bleu(*args); }};
}

}  // namespace torchzoo::cli
