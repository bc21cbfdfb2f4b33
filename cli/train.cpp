// torchzoo train CONFIG [--set K=V]... [--device D] [--out DIR] [--resume CHECKPOINT]
#include <iostream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/format.h"
#include "torchzoo/configs/trainer_options.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/train/trainer.h"

namespace torchzoo::cli {
namespace {

struct TrainArgs {
  ConfigArgs config;
  std::string out_dir, resume, autocast;
};

int run_train(const TrainArgs& args) {
  auto config = load_config(args.config);
  if (!args.out_dir.empty()) config.apply_override("train.out_dir=" + yaml_quote(args.out_dir));
  if (!args.autocast.empty()) config.apply_override("train.autocast=" + args.autocast);
  auto experiment = families::build_experiment(config);
  if (experiment.threads > 0) torch::set_num_threads(static_cast<int>(experiment.threads));

  const auto& options = experiment.trainer;
  const auto precision = configs::read_autocast(config, options.device());
  std::cerr << fmt::format("torchzoo train {} | {}{}\n", args.config.path, precision.describe(),
                           options.grad_scaler().enabled() ? " with dynamic loss scaling" : "");
  if (!precision.warning.empty()) std::cerr << precision.warning << "\n";
  std::cerr << fmt::format("model {} ({} parameters) on {} | {} threads | schedule {}\nwriting {}\n",
                           experiment.model_name, thousands(count_parameters(*experiment.model)),
                           options.device().str(), torch::get_num_threads(),
                           experiment.scheduler->schedule().describe(), options.out_dir());
  train::Trainer trainer(options, *experiment.task, *experiment.optimizer, *experiment.scheduler);
  if (!args.resume.empty()) trainer.resume(args.resume);
  auto result = trainer.fit();

  std::cout << fmt::format("finished: {} epochs, {} steps in {:.1f} s | train loss {:.4f}", result.epochs, result.steps,
                           result.seconds, result.train_loss);
  for (const auto& [metric, value] : result.eval) std::cout << fmt::format(" | valid {} {:.4f}", metric, value);
  std::cout << fmt::format("\ncheckpoint: {}\n", trainer.checkpoint_path());
  auto sample = experiment.task->sample();
  if (!sample.empty()) std::cout << sample << "\n";
  return 0;
}

}  // namespace

Command add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* train = app.add_subcommand("train", "train a model from a config");
  add_config_args(train, args->config);
  train->add_option("--device", args->config.device, "cpu, cuda, cuda:N or auto (default: train.device, else auto)");
  train->add_option("--out", args->out_dir,
                    "output folder for checkpoint.pt and metrics.jsonl (default: runs/<config>)");
  add_autocast_option(train, args->autocast);
  train->add_option("--resume", args->resume, "continue from a checkpoint written by this config")
      ->check(CLI::ExistingFile);
  return {train, [args] { return run_train(*args); }};
}

}  // namespace torchzoo::cli
