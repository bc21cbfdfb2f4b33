#pragma once
// One torchzoo subcommand: its CLI11 subcommand and what runs when it was given.
// Each cli/<command>.cpp defines an add_<command>(app) that declares the flags
// (into a struct the run function keeps) and returns the pair.
#include <functional>

#include <CLI/CLI.hpp>

namespace torchzoo::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;  ///< the exit status
};

Command add_train(CLI::App& app);
Command add_eval(CLI::App& app);
Command add_decode(CLI::App& app);
Command add_predict(CLI::App& app);
Command add_data_prepare(CLI::App& app);
Command add_data_dir(CLI::App& app);
Command add_translate(CLI::App& app);
Command add_bleu(CLI::App& app);
Command add_average(CLI::App& app);
Command add_generate(CLI::App& app);
Command add_export(CLI::App& app);
Command add_info(CLI::App& app);
Command add_plot(CLI::App& app);
Command add_attention(CLI::App& app);
Command add_embed(CLI::App& app);

}  // namespace torchzoo::cli
