// The torchzoo command line: train, eval, decode and info on YAML configs.
//
//   torchzoo train configs/copy_task.yaml --set train.epochs=5 --device cpu --out runs/copy
//   torchzoo eval configs/copy_task.yaml --checkpoint runs/copy/checkpoint.pt
//   torchzoo decode --checkpoint runs/copy/checkpoint.pt "1 2 3 4 5 6 7 8 9 10"
//   torchzoo info configs/copy_task.yaml
//   torchzoo plot runs/copy_task runs/copy_task_tiny -o curves.png
//   torchzoo attention --checkpoint runs/translation_en_de/best.pt "Click OK." -o attention.png
//   torchzoo eval configs/vit_fashion_mnist.yaml --checkpoint runs/vit_fashion_mnist/best.pt --split test
//   torchzoo predict --checkpoint runs/vit_fashion_mnist/best.pt shoe.png
//       /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz:0
//   torchzoo data prepare libreoffice-help --src en-US --tgt de
//   torchzoo data prepare libreoffice-langid --languages de,fr,es,it,pt
//   torchzoo data dir                      (where prepared corpora go; --data-dir DIR moves it)
//   torchzoo translate --checkpoint runs/translation_en_de/averaged.pt --beam 4 < test.en-US > hyp.de
//   torchzoo bleu test.de < hyp.de
//   torchzoo average -o averaged.pt runs/x/snapshots/step_*.pt
//   torchzoo generate --checkpoint runs/lm_en/best.pt --prompt "To insert a table," --top-k 40 --seed 1
//   torchzoo export --checkpoint runs/translation_en_de/best.pt --format torchscript -o translation.pt
//   torchzoo export --checkpoint runs/vit_fashion_mnist/best.pt --format safetensors -o vit.safetensors
//
// One file per command (cli/<command>.cpp); what differs between model families
// is asked of the family (families/family.h). Exit codes: 0 success, 1 runtime
// failure, 2 bad command line or config.
#include <algorithm>
#include <iostream>
#include <optional>
#include <string_view>
#include <vector>

#include "torchzoo/cli/command.h"
#include "torchzoo/common/data_dir.h"
#include "torchzoo/common/format.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/families/family.h"
#include "torchzoo/train/malloc_tuning.h"

namespace {

/// The message for a first word that is no command ("torchzoo trian ..."), if it is one; CLI11
/// itself would only say that a subcommand is required.
std::optional<std::string> unknown_command(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> names;
  for (const auto* command : app.get_subcommands({})) names.push_back(command->get_name());
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--data-dir") {
      ++i;  // its value
      continue;
    }
    if (word.rfind("-", 0) == 0) continue;
    if (std::find(names.begin(), names.end(), word) != names.end()) return std::nullopt;
    auto message = fmt::format("error: unknown command '{}'; the commands are: {}", torchzoo::common::excerpt(word, 80),
                               fmt::join(names, ", "));
    if (auto closest = torchzoo::configs::closest_name(word, names)) {
      message += fmt::format(" (did you mean '{}'?)", *closest);
    }
    return message + "\nRun 'torchzoo --help' for what each does";
  }
  return std::nullopt;
}

/// An error for the terminal: without c10's backtrace and cut to a readable length.
void print_error(std::string_view what) { std::cerr << "error: " << torchzoo::common::excerpt(what, 4000) << "\n"; }

}  // namespace

int main(int argc, char** argv) {
  using namespace torchzoo::cli;
  torchzoo::train::tune_malloc_for_training();
  CLI::App app{"torchzoo: Transformers on LibTorch, trained from YAML configs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "torchzoo 0.1.0");
  app.add_option_function<std::string>("--data-dir", torchzoo::common::set_data_dir,
                                       "where prepared corpora and downloads live, ${data_dir} in configs "
                                       "(default $TORCHZOO_DATA_DIR, else ~/.cache/torchzoo); may follow the command")
      ->type_name("DIR")
      ->check([](const std::string& dir) { return dir.empty() ? std::string("expected a folder, got ''") : ""; });
  app.fallthrough();  // so --data-dir may also come after the command: torchzoo train CONFIG --data-dir DIR
  const std::vector<Command> commands = {
      add_train(app),    add_eval(app),      add_decode(app), add_predict(app),   add_data_prepare(app),
      add_data_dir(app), add_translate(app), add_bleu(app),   add_average(app),   add_generate(app),
      add_export(app),   add_info(app),      add_plot(app),   add_attention(app), add_embed(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (auto unknown = unknown_command(app, argc, argv)) {
      std::cerr << *unknown << "\n";
      return 2;
    }
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }

  try {
    for (const auto& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const torchzoo::configs::ConfigError& error) {
    print_error(error.what());
    return 2;
  } catch (const torchzoo::families::UsageError& error) {
    print_error(error.what());
    return 2;
  } catch (const CLI::ValidationError& error) {
    print_error(error.what());
    return 2;
  } catch (const c10::Error& error) {
    print_error(error.what_without_backtrace());
    return 1;
  } catch (const std::exception& error) {
    print_error(error.what());
    return 1;
  }
  return 0;
}
