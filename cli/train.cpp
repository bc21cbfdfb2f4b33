// torchzoo train CONFIG [--set K=V]... [--device D] [--out DIR] [--resume CHECKPOINT [--allow-config-changes]]
//                [--overwrite]
//
// Distributed: under torchrun (or any launcher that sets RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT) every process runs this command; rank 0 checks the
// output folder, prints and writes, the others train in silence.
//
// SIGINT or SIGTERM: the step finishes, checkpoint.pt is written, the resume
// command is printed and the exit code is 130 (SIGINT) or 143 (SIGTERM).
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <variant>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/format.h"
#include "torchzoo/common/progress_bar.h"
#include "torchzoo/configs/trainer_options.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/families/family.h"
#include "torchzoo/train/interrupt.h"
#include "torchzoo/train/trainer.h"
#include "torchzoo/viz/run_curves.h"
#include "torchzoo/viz/tensorboard_writer.h"

namespace torchzoo::cli {
namespace {

namespace fs = std::filesystem;

struct TrainArgs {
  ConfigArgs config;
  std::string out_dir, resume, autocast;
  bool overwrite = false;
  bool allow_config_changes = false;
  bool dump_config = false;
};

/// Keys that do not change what a run computes: where it writes, what it runs on, how often it
/// prints or saves, how its processes talk.
bool changes_nothing(const std::string& key) {
  for (const char* free : {"train.out_dir", "train.device", "train.log_every", "train.mfu", "train.profile_step",
                           "train.threads", "data.workers"}) {
    if (key == free) return true;
  }
  for (const char* section : {"train.save_every", "train.distributed"}) {
    if (key == section || key.rfind(std::string(section) + ".", 0) == 0) return true;
  }
  return false;
}

/// Refuses to resume `checkpoint` under a config that differs from the one it was trained with:
/// always for model and data keys (the checkpoint would not be that model on that data), and for
/// the other keys unless `allow_changes`.
void check_resume_config(const std::string& checkpoint, const std::string& saved_text, const Config& config,
                         bool allow_changes) {
  const auto saved = Config::parse(saved_text, checkpoint + ":config").flatten();
  const auto now = config.flatten();
  std::vector<std::string> fixed, changed;
  auto describe = [&](const std::string& key, const std::map<std::string, std::string>& leaves) {
    auto it = leaves.find(key);
    return it == leaves.end() ? std::string("(absent)") : common::excerpt(it->second, 60);
  };
  std::set<std::string> keys;
  for (const auto& [key, value] : saved) keys.insert(key);
  for (const auto& [key, value] : now) keys.insert(key);
  for (const auto& key : keys) {
    auto a = saved.find(key), b = now.find(key);
    if ((a == saved.end()) != (b == now.end()) || (a != saved.end() && a->second != b->second)) {
      if (changes_nothing(key)) continue;
      const auto line = fmt::format("{}: {} in the checkpoint, {} now", key, describe(key, saved), describe(key, now));
      const bool model_or_data = key.rfind("model.", 0) == 0 || key.rfind("data.", 0) == 0 || key == "model" ||
                                 key == "data";
      (model_or_data ? fixed : changed).push_back(line);
    }
  }
  if (!fixed.empty()) {
    throw families::UsageError(
        "--resume " + checkpoint,
        fmt::format("the config's model or data differs from the one this checkpoint was trained with:\n  {}\n"
                    "A checkpoint resumes only the run that wrote it; start a new run (another --out) instead",
                    fmt::join(fixed, "\n  ")));
  }
  if (changed.empty()) return;
  if (!allow_changes) {
    throw families::UsageError(
        "--resume " + checkpoint,
        fmt::format("the config differs from the one this checkpoint was trained with:\n  {}\n"
                    "Resume with --allow-config-changes to train on with these changes",
                    fmt::join(changed, "\n  ")));
  }
  std::cerr << fmt::format("resuming with changed training keys (--allow-config-changes):\n  {}\n",
                           fmt::join(changed, "\n  "));
}

/// Whether the run that wrote `state` has nothing left to do under `options`.
bool finished(const train::CheckpointState& state, const train::TrainerOptions& options) {
  if (options.max_steps() > 0 && state.step >= options.max_steps()) return true;
  if (options.patience() > 0 && state.best && state.evals_since_best >= options.patience()) return true;
  return state.epoch >= options.epochs() && state.batch == 0;
}

/// `word` as a POSIX shell reads it back: bare when it is safe, else in single quotes.
std::string shell_quote(const std::string& word) {
  const bool safe = !word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                            "0123456789_-.,/:=+@%") == std::string::npos;
  if (safe) return word;
  std::string quoted = "'";
  for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

/// The command that continues this run: the same arguments plus --resume.
std::string resume_command(const TrainArgs& args, const std::string& checkpoint) {
  std::string command = "torchzoo train " + shell_quote(args.config.path);
  for (const auto& assignment : args.config.overrides) command += " --set " + shell_quote(assignment);
  if (!args.config.device.empty()) command += " --device " + shell_quote(args.config.device);
  if (!args.autocast.empty()) command += " --autocast " + args.autocast;
  if (!args.out_dir.empty()) command += " --out " + shell_quote(args.out_dir);
  return command + " --resume " + shell_quote(checkpoint);
}

/// A new run needs an empty output folder: --overwrite empties it of a run's files.
/// A metrics record's step (0 if it has none).
int64_t step_of(const train::MetricsLog::Fields& fields) {
  for (const auto& [name, value] : fields) {
    if (name == "step" && std::holds_alternative<int64_t>(value)) return std::get<int64_t>(value);
  }
  return 0;
}

/// A metrics record's numbers as TensorBoard tags: valid_x -> valid/x, ema_valid_x -> ema_valid/x,
/// train_loss (an evaluation's epoch loss) -> train/epoch_loss, the others -> train/<name>.
std::vector<std::pair<std::string, double>> tensorboard_scalars(const train::MetricsLog::Fields& fields) {
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& [name, value] : fields) {
    if (name == "step" || name == "epoch" || std::holds_alternative<std::string>(value)) continue;
    const double number =
        std::holds_alternative<double>(value) ? std::get<double>(value) : static_cast<double>(std::get<int64_t>(value));
    std::string tag = "train/" + name;
    if (name.rfind("valid_", 0) == 0) tag = "valid/" + name.substr(6);
    if (name.rfind("ema_valid_", 0) == 0) tag = "ema_valid/" + name.substr(10);
    if (name == "train_loss") tag = "train/epoch_loss";
    scalars.emplace_back(tag, number);
  }
  return scalars;
}

/// What the CLI adds to a run's metrics.jsonl on rank 0: out_dir/curves.png (torchzoo plot's
/// picture of the run) drawn again after each evaluation and, with train.tensorboard, every record's
/// figures as TensorBoard scalars ("train/loss", "valid/bleu", ...) in out_dir. A picture that cannot
/// be drawn is a warning, never the end of training.
void watch_metrics(train::Trainer& trainer, const std::string& out_dir, bool tensorboard) {
  std::shared_ptr<viz::TensorBoardWriter> events;
  if (tensorboard) events = std::make_shared<viz::TensorBoardWriter>(out_dir);
  trainer.on_record = [&trainer, out_dir, events](const std::string& event, const train::MetricsLog::Fields& fields) {
    const bool evaluation = event == "eval" || event == "epoch";
    if (events && (event == "step" || evaluation)) events->add_scalars(step_of(fields), tensorboard_scalars(fields));
    if (!evaluation) return;
    const auto path = (fs::path(out_dir) / "curves.png").string();
    try {
      viz::plot_runs({out_dir}, path);
    } catch (const std::exception& error) {
      trainer.print(fmt::format("warning: could not draw {}: {}", path, error.what()));
    }
  };
}

void prepare_out_dir(const TrainArgs& args, const std::string& out_dir, bool resumed) {
  const auto existing = train::existing_run_files(out_dir);
  if (resumed || existing.empty()) return;
  if (!args.overwrite) {
    throw families::UsageError(
        out_dir, fmt::format("this folder holds a run already ({}); continue it with --resume {}, replace it with "
                             "--overwrite, or choose another --out",
                             fmt::join(existing, ", "), shell_quote((fs::path(out_dir) / "checkpoint.pt").string())));
  }
  for (const auto& name : existing) fs::remove_all(fs::path(out_dir) / name);
  std::cerr << fmt::format("--overwrite: removed {} from {}\n", fmt::join(existing, ", "), out_dir);
}

int run_train(const TrainArgs& args) {
  const auto distributed = train::read_distributed_env();  // before anything else: a bad environment stops here
  const bool rank0 = !distributed || distributed->rank == 0;
  auto config = load_config(args.config);
  if (!args.out_dir.empty()) config.apply_override("train.out_dir=" + yaml_quote(args.out_dir));
  if (!args.autocast.empty()) config.apply_override("train.autocast=" + args.autocast);
  std::optional<train::CheckpointState> resumed;
  if (!args.resume.empty()) {
    resumed = train::read_checkpoint_state(args.resume);
    if (!resumed->resumable) {
      throw std::runtime_error(fmt::format(
          "--resume {}: this checkpoint holds weights only (an average, ema.pt or snapshot), no optimizer state, and "
          "cannot be resumed; resume checkpoint.pt, or start a new run from these weights with model.init_from "
          "(torchzoo export --format safetensors)",
          args.resume));
    }
    check_resume_config(args.resume, resumed->config, config, args.allow_config_changes);
  }
  auto experiment = families::build_experiment(config);
  if (args.dump_config) {
    if (rank0) std::cout << experiment.trainer.resolved_config_text();
    return 0;
  }
  if (experiment.threads > 0) torch::set_num_threads(static_cast<int>(experiment.threads));
  auto options = experiment.trainer;
  options.progress_bar(rank0 && common::stderr_is_terminal());  // a live bar on a terminal, plain lines in logs
  if (distributed) {
    // One GPU per process, as torchrun's LOCAL_RANK says; one dropout stream per rank.
    if (options.device().is_cuda()) options.device(torch::Device(torch::kCUDA, distributed->local_rank));
    if (distributed->rank > 0) torch::manual_seed(train::rank_seed(experiment.seed, distributed->rank));
    options.process_group(train::ProcessGroup::connect(
        *distributed, configs::read_distributed_config(config).process_group, options.device()));
  }

  if (resumed && finished(*resumed, options)) {
    if (rank0) std::cout << fmt::format(
        "{}: this run is finished (epoch {}/{}, step {}{}); nothing to train. To train further, raise "
        "train.epochs or train.max_steps and resume with --allow-config-changes\n",
        args.resume, resumed->epoch, options.epochs(), resumed->step,
        options.max_steps() > 0 ? fmt::format(" of max_steps {}", options.max_steps()) : "");
    return 0;
  }
  // Rank 0 checks the output folder; the others start only when it does (else they would wait on it).
  std::exception_ptr refused;
  if (rank0) {
    try {
      prepare_out_dir(args, options.out_dir(), resumed.has_value());
    } catch (...) {
      refused = std::current_exception();
    }
  }
  if (distributed && !options.process_group()->broadcast_text(refused ? "refused" : "").empty() && !rank0) {
    throw train::DistributedError(fmt::format("distributed training: rank {} of {}: rank 0 refused to start (its "
                                              "error says why)",
                                              distributed->rank, distributed->world_size));
  }
  if (refused) std::rethrow_exception(refused);

  const auto precision = configs::read_autocast(config, options.device());
  if (rank0) {
    std::cerr << fmt::format("torchzoo train {} | {}{} | {}\n", args.config.path, precision.describe(),
                             options.grad_scaler().enabled() ? " with dynamic loss scaling" : "",
                             configs::read_linear_kernel(config, options.device(), precision.dtype).describe());
    if (!precision.warning.empty()) std::cerr << precision.warning << "\n";
    std::cerr << fmt::format("model {} ({} parameters) on {} | {} threads | schedule {}\nwriting {}\n",
                             experiment.model_name, thousands(count_parameters(*experiment.model)),
                             options.device().str(), torch::get_num_threads(),
                             experiment.scheduler->schedule().describe(), options.out_dir());
    if (distributed) {
      std::cerr << fmt::format("distributed: {} processes ({}, rendezvous at {}:{}); rank 0 evaluates and writes\n",
                               distributed->world_size, options.process_group()->backend(),
                               distributed->master_addr, distributed->master_port);
    }
  }
  train::InterruptHandler interrupts;
  options.interrupted(train::interrupt_signal);
  train::Trainer trainer(options, *experiment.task, *experiment.optimizer, *experiment.scheduler);
  if (rank0 && !options.out_dir().empty()) watch_metrics(trainer, options.out_dir(), experiment.tensorboard);
  if (resumed) trainer.resume(args.resume);
  auto result = trainer.fit();

  if (!rank0) return result.interrupted_by != 0 ? 128 + result.interrupted_by : 0;
  if (result.interrupted_by != 0) {
    std::cout << fmt::format("interrupted by {} at epoch {}, step {}: saved {}\nresume with: {}\n",
                             train::signal_name(result.interrupted_by), result.epochs + 1, result.steps,
                             trainer.checkpoint_path(), resume_command(args, trainer.checkpoint_path()));
    if (distributed) std::cout << "(run it under the same launcher, with as many processes)\n";
    return 128 + result.interrupted_by;
  }
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
  train
      ->add_option("--out", args->out_dir,
                   "output folder for checkpoint.pt and metrics.jsonl (default: runs/<config>)")
      ->check([](const std::string& dir) { return dir.empty() ? std::string("expected a folder, got ''") : ""; });
  add_autocast_option(train, args->autocast);
  auto* resume = train->add_option("--resume", args->resume, "continue from a checkpoint written by this config")
                     ->check(CLI::ExistingFile);
  train->add_flag("--allow-config-changes", args->allow_config_changes,
                  "with --resume: train on although training keys (epochs, lr, ...) differ from the checkpoint's")
      ->needs(resume);
  train->add_flag("--overwrite", args->overwrite, "replace the run already in the output folder")->excludes(resume);
  train->add_flag(
      "--dump-config", args->dump_config,
      "print the config with every default applied (as the checkpoint stores it) and exit without training");
  return {train, [args] { return run_train(*args); }};
}

}  // namespace torchzoo::cli
