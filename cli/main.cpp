// The torchzoo command line: train, eval, decode and info on YAML configs.
//
//   torchzoo train configs/copy_task.yaml --set train.epochs=5 --device cpu --out runs/copy
//   torchzoo eval configs/copy_task.yaml --checkpoint runs/copy/checkpoint.pt
//   torchzoo decode --checkpoint runs/copy/checkpoint.pt "1 2 3 4 5 6 7 8 9 10"
//   torchzoo info configs/copy_task.yaml
//   torchzoo eval configs/vit_fashion_mnist.yaml --checkpoint runs/vit_fashion_mnist/best.pt --split test
//   torchzoo predict --checkpoint runs/vit_fashion_mnist/best.pt shoe.png \
//       /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz:0
//   torchzoo data prepare libreoffice-help --src en-US --tgt de
//   torchzoo data prepare libreoffice-langid --languages de,fr,es,it,pt
//   torchzoo translate --checkpoint runs/translation_en_de/averaged.pt --beam 4 < test.en-US > hyp.de
//   torchzoo bleu test.de < hyp.de
//   torchzoo average -o averaged.pt runs/x/snapshots/step_*.pt
//   torchzoo generate --checkpoint runs/lm_en/best.pt --prompt "To insert a table," --top-k 40 --seed 1
//   torchzoo export --checkpoint runs/translation_en_de/best.pt --format torchscript -o translation.pt
//   torchzoo export --checkpoint runs/vit_fashion_mnist/best.pt --format safetensors -o vit.safetensors
//
// Exit codes: 0 success, 1 runtime failure, 2 bad command line or config.
#include <torch/script.h>
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "torchzoo/configs/config.h"
#include "torchzoo/configs/experiment.h"
#include "torchzoo/configs/registries.h"
#include "torchzoo/data/help_langid.h"
#include "torchzoo/data/idx.h"
#include "torchzoo/data/libreoffice_help.h"
#include "torchzoo/data/png.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/train/bleu.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/checkpoint_average.h"
#include "torchzoo/train/device.h"
#include "torchzoo/train/image_classification_task.h"
#include "torchzoo/train/lm_generation.h"
#include "torchzoo/train/malloc_tuning.h"
#include "torchzoo/train/safetensors.h"
#include "torchzoo/train/seq2seq_task.h"
#include "torchzoo/train/text_classification_task.h"
#include "torchzoo/train/torchscript_export.h"
#include "torchzoo/train/trainer.h"
#include "torchzoo/train/translation_task.h"
#include "torchzoo/train/translator.h"

namespace {

using torchzoo::configs::Config;

struct ConfigArgs {
  std::string path;
  std::vector<std::string> overrides;
  std::string device;
};

/// A YAML single-quoted scalar, so paths with ':' or '#' survive --set parsing.
std::string yaml_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

Config load_config(const ConfigArgs& args) {
  auto config = Config::load(args.path);
  for (const auto& assignment : args.overrides) config.apply_override(assignment);
  if (!args.device.empty()) config.apply_override("train.device=" + yaml_quote(args.device));
  return config;
}

std::string thousands(int64_t n) {
  auto digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : torchzoo::layers::unique_parameters(module)) total += p.numel();  // tied weights once
  return total;
}

std::string parameter_table(const torch::nn::Module& model) {
  std::string table = "parameters:\n";
  for (const auto& child : model.named_children()) {
    table += fmt::format("  {:<24}{:>14}\n", child.key(), thousands(count_parameters(*child.value())));
  }
  return table + fmt::format("  {:<24}{:>14}\n", "total", thousands(count_parameters(model)));
}

int run_info(const ConfigArgs& args) {
  auto config = load_config(args);
  auto model_section = config.section("model");
  const auto name = model_section.require<std::string>("name");
  auto model = torchzoo::configs::build_model(config);
  std::ostringstream tree;
  tree << *model;
  std::cout << fmt::format("config: {}\nmodel: {}\n{}\n\n{}", args.path, name, tree.str(), parameter_table(*model));
  return 0;
}

int run_train(const ConfigArgs& args, const std::string& out_dir, const std::string& resume) {
  auto config = load_config(args);
  if (!out_dir.empty()) config.apply_override("train.out_dir=" + yaml_quote(out_dir));
  auto experiment = torchzoo::configs::build_experiment(config);
  if (experiment.threads > 0) torch::set_num_threads(static_cast<int>(experiment.threads));

  const auto& options = experiment.trainer;
  std::cerr << fmt::format("torchzoo train {}\nmodel {} ({} parameters) on {} | {} threads | schedule {}\nwriting {}\n",
                           args.path, experiment.model_name, thousands(count_parameters(*experiment.model)),
                           options.device().str(), torch::get_num_threads(),
                           experiment.scheduler->schedule().describe(), options.out_dir());
  torchzoo::train::Trainer trainer(options, *experiment.task, *experiment.optimizer, *experiment.scheduler);
  if (!resume.empty()) trainer.resume(resume);
  auto result = trainer.fit();

  std::cout << fmt::format("finished: {} epochs, {} steps in {:.1f} s | train loss {:.4f}", result.epochs, result.steps,
                           result.seconds, result.train_loss);
  for (const auto& [metric, value] : result.eval) std::cout << fmt::format(" | valid {} {:.4f}", metric, value);
  std::cout << fmt::format("\ncheckpoint: {}\n", trainer.checkpoint_path());
  auto sample = experiment.task->sample();
  if (!sample.empty()) std::cout << sample << "\n";
  return 0;
}

/// The model and task of a checkpoint, built from the config saved in it, with its weights loaded.
struct Restored {
  std::shared_ptr<torch::nn::Module> model;
  std::unique_ptr<torchzoo::train::Task> task;
};

Restored restore(const Config& config, const std::string& checkpoint, torch::Device device) {
  Restored r;
  r.model = torchzoo::configs::build_model(config, /*with_init_from=*/false);
  r.task = torchzoo::configs::build_task(config, r.model);
  torchzoo::train::load_checkpoint(checkpoint, *r.model);
  r.task->to(device);
  r.model->eval();
  return r;
}

/// Lines of `in` without their line ends ('\n' or "\r\n").
std::vector<std::string> read_all_lines(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

torch::Device device_of(const Config& config, const std::string& flag) {
  if (!flag.empty()) return torchzoo::train::select_device(flag);
  auto train = config.root().optional_section("train");
  return torchzoo::train::select_device(train ? train->get("device", "auto") : "auto");
}

int run_eval(const ConfigArgs& args, const std::string& checkpoint, const std::string& split,
             const torchzoo::train::TranslatorOptions& decoding) {
  auto config = load_config(args);
  auto restored = restore(config, checkpoint, device_of(config, args.device));
  torch::NoGradGuard no_grad;
  if (auto* translation = dynamic_cast<torchzoo::train::TranslationTask*>(restored.task.get())) {
    const bool test = split == "test";
    if (test && translation->test_pairs().empty()) {
      throw CLI::ValidationError("--split", "the config's data section names no test split (data.test)");
    }
    const auto& pairs = test ? translation->test_pairs() : translation->valid_data().text;
    auto metrics = translation->evaluate_on(pairs, decoding);
    std::cout << fmt::format("eval {} on {} ({} split, {} pairs, {})", checkpoint, args.path, split, pairs.size(),
                             decoding.beam_size() > 1 ? fmt::format("beam {}", decoding.beam_size()) : "greedy");
    for (const auto& [metric, value] : metrics) std::cout << fmt::format(" | {} {:.4f}", metric, value);
    std::cout << "\n";
    return 0;
  }
  if (auto* images = dynamic_cast<torchzoo::train::ImageClassificationTask*>(restored.task.get())) {
    const auto& dataset = split == "test" ? images->test_set() : images->valid_set();
    auto report = images->evaluate_on(dataset);
    std::cout << fmt::format("eval {} on {} ({} split, {} images) | accuracy {:.4f} | loss {:.4f}\n{}\n", checkpoint,
                             args.path, split == "test" ? "test" : images->options().valid_name(), dataset.size(),
                             report.accuracy, report.loss, report.table(images->classes()));
    return 0;
  }
  if (auto* texts = dynamic_cast<torchzoo::train::TextClassificationTask*>(restored.task.get())) {
    const bool test = split == "test";
    if (test && texts->test_examples().empty()) {
      throw CLI::ValidationError("--split", "the config's data section names no test split (data.test)");
    }
    auto report = test ? texts->evaluate_on(texts->test_examples()) : texts->evaluate_on(texts->valid_data().text);
    std::cout << fmt::format("eval {} on {} ({} split, {} texts) | accuracy {:.4f} | loss {:.4f}\n{}\n{}\n", checkpoint,
                             args.path, split, report.overall.examples, report.overall.accuracy, report.overall.loss,
                             report.overall.table(texts->classes()), report.by_length_line());
    return 0;
  }
  if (split != "valid") {
    throw CLI::ValidationError("--split", fmt::format("this task has only a valid split, got '{}'", split));
  }
  auto metrics = restored.task->evaluate();
  std::cout << fmt::format("eval {} on {}", checkpoint, args.path);
  for (const auto& [metric, value] : metrics) std::cout << fmt::format(" | valid {} {:.4f}", metric, value);
  std::cout << "\n";
  return 0;
}

/// An input of `predict`: a PNG file, or FILE:INDEX for image INDEX of an IDX images file.
/// `idx_files` keeps each IDX file read so far, so that several indices of one file read it once.
torch::Tensor read_input_image(const std::string& input, int64_t channels, int64_t size,
                               std::map<std::string, torch::Tensor>& idx_files) {
  const auto colon = input.rfind(':');
  torch::Tensor image;  // uint8 [C, H, W]
  if (colon != std::string::npos && colon + 1 < input.size() &&
      input.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    const auto path = input.substr(0, colon);
    const auto index = std::stoll(input.substr(colon + 1));
    auto& images = idx_files[path];  // [N, H, W]
    if (!images.defined()) images = torchzoo::data::read_idx(path, /*expected_dims=*/3);
    if (index >= images.size(0)) {
      throw CLI::ValidationError(
          "INPUT", fmt::format("'{}' holds {} images; index {} is out of range", path, images.size(0), index));
    }
    image = images[index].unsqueeze(0).expand({channels, -1, -1}).contiguous();
  } else {
    image = torchzoo::data::read_png(input, channels);
  }
  if (image.size(1) != size || image.size(2) != size) {
    // Bilinear resize to the model's input size, with antialiasing when shrinking (as PIL does).
    namespace F = torch::nn::functional;
    image = F::interpolate(image.unsqueeze(0).to(torch::kFloat), F::InterpolateFuncOptions()
                                                                     .size(std::vector<int64_t>{size, size})
                                                                     .mode(torch::kBilinear)
                                                                     .align_corners(false)
                                                                     .antialias(true))
                .squeeze(0)
                .round()
                .clamp(0, 255)
                .to(torch::kUInt8);
  }
  return image;
}

/// `predict` with a text classifier: each stdin line -> its top classes and probabilities.
int run_predict_text(const Config& config, const std::string& checkpoint, int64_t top, const std::string& device_flag) {
  auto model = torchzoo::configs::build_model(config, /*with_init_from=*/false);
  torchzoo::train::load_checkpoint(checkpoint, *model);
  model->to(device_of(config, device_flag));
  auto classifier = torchzoo::configs::load_text_classifier(config, model);
  const auto lines = read_all_lines(std::cin);
  auto probabilities = classifier.predict(lines);  // [N, classes]
  const auto k = std::min<int64_t>(top > 0 ? top : 1, probabilities.size(1));
  auto [values, indices] = probabilities.topk(k, -1);
  const auto& classes = classifier.classes();
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string line;
    for (int64_t j = 0; j < k; ++j) {
      const auto c = indices[static_cast<int64_t>(i)][j].item<int64_t>();
      line += fmt::format("{}{}\t{:.4f}", j == 0 ? "" : "\t", classes[static_cast<size_t>(c)],
                          values[static_cast<int64_t>(i)][j].item<double>());
    }
    std::cout << line << '\n';
  }
  std::cout.flush();
  return 0;
}

int run_predict(const std::string& checkpoint, const std::vector<std::string>& inputs, int64_t top,
                const std::string& device_flag) {
  auto state = torchzoo::train::read_checkpoint_state(checkpoint);
  auto config = Config::parse(state.config, checkpoint + ":config");
  if (config.section("data").get("name", "") == "text_classification") {
    if (!inputs.empty()) {
      throw CLI::ValidationError("INPUT", "a text classifier reads its texts from stdin, one per line");
    }
    return run_predict_text(config, checkpoint, top, device_flag);
  }
  if (inputs.empty())
    throw CLI::ValidationError("INPUT", "an image classifier needs PNG files or IDX_FILE:INDEX inputs");
  auto restored = restore(config, checkpoint, device_of(config, device_flag));
  auto* task = dynamic_cast<torchzoo::train::ImageClassificationTask*>(restored.task.get());
  if (task == nullptr) {
    throw std::invalid_argument(fmt::format("checkpoint '{}' holds no image classifier", checkpoint));
  }
  const auto& sample = task->test_set().size() > 0 ? task->test_set() : task->valid_set();
  const auto channels = sample.images.size(1), size = sample.images.size(2);
  std::vector<torch::Tensor> images;
  std::map<std::string, torch::Tensor> idx_files;
  for (const auto& input : inputs) images.push_back(read_input_image(input, channels, size, idx_files));
  auto probabilities = task->predict(torch::stack(images));  // [N, classes]
  const auto k = std::min<int64_t>(top > 0 ? top : 3, probabilities.size(1));
  auto [values, indices] = probabilities.topk(k, -1);
  const auto& classes = task->classes();
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string line = inputs[i] + ":";
    for (int64_t j = 0; j < k; ++j) {
      const auto c = indices[static_cast<int64_t>(i)][j].item<int64_t>();
      line += fmt::format("{} {} ({:.4f})", j == 0 ? "" : " |", classes[static_cast<size_t>(c)],
                          values[static_cast<int64_t>(i)][j].item<double>());
    }
    std::cout << line << "\n";
  }
  return 0;
}

std::vector<int64_t> parse_tokens(const std::string& text) {
  std::vector<int64_t> tokens;
  std::istringstream stream(text);
  std::string word;
  while (stream >> word) {
    try {
      size_t used = 0;
      tokens.push_back(std::stoll(word, &used));
      if (used != word.size()) throw std::invalid_argument(word);
    } catch (const std::exception&) {
      throw CLI::ValidationError("SOURCE", fmt::format("expected space-separated token ids, got '{}'", word));
    }
  }
  if (tokens.empty()) throw CLI::ValidationError("SOURCE", "expected at least one token id");
  return tokens;
}

int run_decode(const std::string& checkpoint, const std::string& source, int64_t max_len,
               const std::string& device_flag) {
  const auto tokens = parse_tokens(source);
  auto state = torchzoo::train::read_checkpoint_state(checkpoint);
  auto config = Config::parse(state.config, checkpoint + ":config");
  auto restored = restore(config, checkpoint, device_of(config, device_flag));
  auto* seq2seq = dynamic_cast<torchzoo::train::Seq2SeqTask*>(restored.task.get());
  if (seq2seq == nullptr) {
    throw std::invalid_argument(fmt::format("checkpoint '{}' holds no sequence-to-sequence model", checkpoint));
  }
  std::cout << fmt::format("{}\n", fmt::join(seq2seq->decode(tokens, max_len), " "));
  return 0;
}

/// `torchzoo data prepare libreoffice-help`: the aligned corpus as TSV splits plus plain
/// one-sentence-per-line files per split and language (data/libreoffice_help.h);
/// `torchzoo data prepare libreoffice-langid`: labelled paragraphs of several languages
/// (data/help_langid.h).
int run_prepare(const std::string& corpus, const torchzoo::data::HelpCorpusOptions& options,
                torchzoo::data::HelpLangIdOptions langid_options, const std::vector<std::string>& languages,
                std::string out_dir) {
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  if (corpus == "libreoffice-langid") {
    if (!languages.empty()) langid_options.languages(languages);
    langid_options.cache_dir(options.cache_dir()).max_chars(options.max_chars());
    if (out_dir.empty()) out_dir = "data/libreoffice-langid";
    auto counts = torchzoo::data::prepare_help_langid(langid_options, out_dir);
    const auto n = static_cast<int64_t>(langid_options.languages().size());
    std::cout << fmt::format("{} {} -> {}: train {} | valid {} | test {} texts ({:.1f} s)\n{}", corpus,
                             fmt::join(langid_options.languages(), ","), out_dir, n * counts.train_per_language,
                             n * counts.valid_per_language, n * counts.test_per_language, seconds(),
                             torchzoo::data::to_string(counts));
    return 0;
  }
  if (corpus != "libreoffice-help") {
    throw CLI::ValidationError("CORPUS",
                               fmt::format("known corpora: libreoffice-help, libreoffice-langid; got '{}'", corpus));
  }
  if (!languages.empty()) {
    throw CLI::ValidationError("--languages", "is for libreoffice-langid; libreoffice-help takes --src and --tgt");
  }
  if (out_dir.empty()) out_dir = fmt::format("data/libreoffice-help/{}-{}", options.src_lang(), options.tgt_lang());
  auto counts = torchzoo::data::prepare_libreoffice_help(options, out_dir);
  std::cout << fmt::format("{} {} -> {} in {}: train {} | valid {} | test {} pairs ({:.1f} s)\n{}", corpus,
                           options.src_lang(), options.tgt_lang(), out_dir, counts.train, counts.valid, counts.test,
                           seconds(), torchzoo::data::to_string(counts));
  return 0;
}

/// The EncoderDecoder and tokenizers of a translation checkpoint.
torchzoo::train::Translator load_translator(const std::string& checkpoint, const std::string& device_flag) {
  auto state = torchzoo::train::read_checkpoint_state(checkpoint);
  auto config = Config::parse(state.config, checkpoint + ":config");
  auto model = torchzoo::configs::build_model(config, /*with_init_from=*/false);
  auto encoder_decoder = std::dynamic_pointer_cast<torchzoo::models::EncoderDecoderImpl>(model);
  if (!encoder_decoder) {
    throw std::invalid_argument(fmt::format("checkpoint '{}' holds no encoder-decoder model", checkpoint));
  }
  auto tokenizers = torchzoo::configs::load_translation_tokenizers(config);
  const auto device = device_of(config, device_flag);
  torchzoo::train::load_checkpoint(checkpoint, *model);
  model->to(device);
  model->eval();
  return torchzoo::train::Translator(torchzoo::models::EncoderDecoder(encoder_decoder), tokenizers.src, tokenizers.tgt);
}

/// `torchzoo translate`: stdin lines to stdout translations. From a terminal, each line is
/// translated as it comes; from a file or pipe, all lines in length-sorted batches with a
/// progress line on stderr.
int run_translate(const std::string& checkpoint, const torchzoo::train::TranslatorOptions& options,
                  const std::string& device_flag, bool quiet) {
  auto translator = load_translator(checkpoint, device_flag);
  torch::NoGradGuard no_grad;
  if (::isatty(STDIN_FILENO)) {
    std::string line;
    while (std::getline(std::cin, line)) {
      std::cout << translator.translate({line}, options).front() << std::endl;
    }
    return 0;
  }
  const auto lines = read_all_lines(std::cin);
  const auto start = std::chrono::steady_clock::now();
  auto progress = [&](int64_t done, int64_t total) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << fmt::format("\rtranslated {}/{} sentences ({:.0f}%) | {:.1f} sentences/s", done, total,
                             100.0 * static_cast<double>(done) / static_cast<double>(total),
                             static_cast<double>(done) / std::max(seconds, 1e-9))
              << std::flush;
  };
  const auto translations =
      translator.translate(lines, options, quiet ? std::function<void(int64_t, int64_t)>() : progress);
  if (!quiet && !lines.empty()) std::cerr << "\n";
  for (const auto& translation : translations) std::cout << translation << '\n';
  std::cout.flush();
  return 0;
}

/// `torchzoo bleu REF... < HYP`: corpus BLEU as `sacrebleu REF... < HYP` computes and prints it.
int run_bleu(const std::vector<std::string>& ref_paths, const std::string& format, bool lowercase,
             const std::string& tokenize) {
  const auto hypotheses = torchzoo::train::read_lines(std::cin, "stdin");
  std::vector<std::vector<std::string>> references;
  for (const auto& path : ref_paths) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw std::runtime_error(fmt::format("cannot read reference file '{}'", path));
    references.push_back(torchzoo::train::read_lines(file, path));
    if (references.back().size() != hypotheses.size()) {
      throw std::invalid_argument(fmt::format("the reference file '{}' has {} lines, the hypotheses on stdin {}", path,
                                              references.back().size(), hypotheses.size()));
    }
  }
  torchzoo::train::BleuOptions options;
  options.lowercase = lowercase;
  options.tokenize = tokenize;
  auto score = torchzoo::train::corpus_bleu(hypotheses, references, options);
  std::cout << (format == "json" ? score.json() : score.text()) << "\n";
  return 0;
}

/// `torchzoo generate`: the prompt and its continuation by a language model checkpoint.
int run_generate(const std::string& checkpoint, const std::string& prompt,
                 const torchzoo::train::GenerateOptions& options, bool ignore_eos, const std::string& device_flag) {
  auto state = torchzoo::train::read_checkpoint_state(checkpoint);
  auto config = Config::parse(state.config, checkpoint + ":config");
  auto model = torchzoo::configs::build_model(config, /*with_init_from=*/false);
  auto lm = std::dynamic_pointer_cast<torchzoo::models::DecoderOnlyLMImpl>(model);
  if (!lm) throw std::invalid_argument(fmt::format("checkpoint '{}' holds no decoder_only_lm model", checkpoint));
  auto tokenizer = torchzoo::configs::load_lm_tokenizer(config);
  torchzoo::train::load_checkpoint(checkpoint, *model);
  model->to(device_of(config, device_flag));
  std::vector<int64_t> ids = {tokenizer->bos_id()};
  for (auto id : tokenizer->encode(prompt)) ids.push_back(id);
  const auto room = lm->options.max_len() - static_cast<int64_t>(ids.size());
  if (room < 1) {
    throw CLI::ValidationError("--prompt", fmt::format("holds {} pieces; the model's max_len {} leaves no room to "
                                                       "generate",
                                                       ids.size() - 1, lm->options.max_len()));
  }
  auto generate_options = options;
  generate_options.end_symbol(ignore_eos ? -1 : tokenizer->eos_id()).max_tokens(std::min(options.max_tokens(), room));
  const auto continuation = torchzoo::train::generate(*lm, ids, generate_options);
  std::vector<int64_t> pieces(ids.begin() + 1, ids.end());
  for (auto id : continuation) {
    if (id != tokenizer->eos_id()) pieces.push_back(id);
  }
  std::cout << tokenizer->decode(pieces) << std::endl;
  return 0;
}

/// What a TorchScript archive of a checkpoint carries beside the model: its config, the decoding
/// symbols of its data (greedy_decode's and generate's defaults), its tokenizer files and a
/// classifier's class names.
torchzoo::train::TorchScriptExportOptions script_export_options(const Config& config, const std::string& yaml,
                                                                std::shared_ptr<torch::nn::Module> model) {
  torchzoo::train::TorchScriptExportOptions options;
  torchzoo::train::ExtraFiles files{{"config.yaml", yaml}};
  auto data = config.root().optional_section("data");
  const auto data_name = data ? data->get("name", "") : std::string();
  if (data_name == "translation") {
    auto tokenizers = torchzoo::configs::load_translation_tokenizers(config);
    options.start_symbol(tokenizers.tgt->bos_id()).end_symbol(tokenizers.tgt->eos_id()).pad(tokenizers.tgt->pad_id());
    if (tokenizers.src == tokenizers.tgt) {
      files["tokenizer.model"] = torchzoo::data::read_text_file(tokenizers.src->path(), "tokenizer");
    } else {
      files["src_tokenizer.model"] = torchzoo::data::read_text_file(tokenizers.src->path(), "tokenizer");
      files["tgt_tokenizer.model"] = torchzoo::data::read_text_file(tokenizers.tgt->path(), "tokenizer");
    }
  } else if (data_name == "language_model") {
    auto tokenizer = torchzoo::configs::load_lm_tokenizer(config);
    options.start_symbol(tokenizer->bos_id()).end_symbol(tokenizer->eos_id()).pad(tokenizer->pad_id());
    files["tokenizer.model"] = torchzoo::data::read_text_file(tokenizer->path(), "tokenizer");
  } else if (data_name == "text_classification") {
    auto classifier = torchzoo::configs::load_text_classifier(config, model);
    files["tokenizer.model"] = torchzoo::data::read_text_file(classifier.tokenizer().path(), "tokenizer");
    files["classes.txt"] = fmt::format("{}\n", fmt::join(classifier.classes(), "\n"));  // line i: class i
  } else if (data_name == "copy_task") {
    options.start_symbol(data->get<int64_t>("start_symbol", 1)).pad(data->get<int64_t>("pad", 0));
  }
  return options.extra_files(files);
}

/// `torchzoo export --checkpoint F --format torchscript|safetensors -o OUT`.
int run_export(const std::string& checkpoint, const std::string& format, const std::string& out) {
  auto state = torchzoo::train::read_checkpoint_state(checkpoint);
  auto config = Config::parse(state.config, checkpoint + ":config");
  const auto model_name = config.section("model").require<std::string>("name");
  auto model = torchzoo::configs::build_model(config, /*with_init_from=*/false);
  torchzoo::train::load_checkpoint(checkpoint, *model);
  model->eval();
  if (format == "safetensors") {
    torchzoo::train::export_safetensors(*model, out, model_name, state.config);
    std::cout << fmt::format("exported {} ({} tensors) to {}\n", model_name,
                             torchzoo::train::module_state(*model).size(), out);
    return 0;
  }
  auto options = script_export_options(config, state.config, model);
  torchzoo::train::export_torchscript(*model, out, options);
  // Read back as a deployment would, and list what it offers.
  auto loaded = torch::jit::load(out);
  std::vector<std::string> methods;
  for (const auto& method : loaded.get_methods()) methods.push_back(method.name());
  std::vector<std::string> files;
  for (const auto& [name, bytes] : options.extra_files()) files.push_back(name);
  std::cout << fmt::format("exported {} to {} (TorchScript)\nmethods: {}\nfiles: {}\n", model_name, out,
                           fmt::join(methods, ", "), fmt::join(files, ", "));
  return 0;
}

/// `torchzoo average -o OUT CHECKPOINT...`: the mean of the checkpoints' weights.
int run_average(const std::vector<std::string>& checkpoints, const std::string& out) {
  auto state = torchzoo::train::read_checkpoint_state(checkpoints.front());
  auto config = Config::parse(state.config, checkpoints.front() + ":config");
  auto model = torchzoo::configs::build_model(config, /*with_init_from=*/false);
  torchzoo::train::average_checkpoints(checkpoints, *model, out);
  std::cout << fmt::format("averaged {} checkpoints into {}\n", checkpoints.size(), out);
  return 0;
}

void add_decoding_options(CLI::App* command, torchzoo::train::TranslatorOptions& options) {
  command
      ->add_option_function<int64_t>(
          "--beam", [&options](int64_t beam) { options.beam_size(beam); }, "beam size (default 1: greedy)")
      ->check(CLI::Range(int64_t{1}, int64_t{64}));
  command
      ->add_option_function<double>(
          "--length-penalty", [&options](double alpha) { options.length_penalty(alpha); },
          "beam search length penalty alpha (default 0.6; 0: none)")
      ->check(CLI::Range(0.0, 10.0));
  command
      ->add_option_function<double>(
          "--max-len-a", [&options](double a) { options.max_len_a(a); },
          "longest output: a * source tokens + b (default a 1.5)")
      ->check(CLI::Range(0.0, 100.0));
  command
      ->add_option_function<int64_t>(
          "--max-len-b", [&options](int64_t b) { options.max_len_b(b); }, "(default b 10)")
      ->check(CLI::Range(int64_t{0}, int64_t{10000}));
  command
      ->add_option_function<int64_t>(
          "--batch-size", [&options](int64_t n) { options.batch_size(n); }, "sentences decoded together (default 64)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  command->add_flag_function(
      "--no-cache", [&options](int64_t) { options.use_cache(false); },
      "re-run the decoder on the whole prefix each step (the reference's way; slower)");
}

void add_config_args(CLI::App* command, ConfigArgs& args) {
  command->add_option("CONFIG", args.path, "YAML config, e.g. configs/copy_task.yaml")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--set", args.overrides, "override a config value: section.key=value (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
}

}  // namespace

int main(int argc, char** argv) {
  torchzoo::train::tune_malloc_for_training();
  CLI::App app{"torchzoo: Transformers on LibTorch, trained from YAML configs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "torchzoo 0.1.0");

  ConfigArgs args;
  std::string out_dir, resume, checkpoint, source, split = "valid";
  std::vector<std::string> predict_inputs;
  int64_t max_len = 0, top = 0;

  auto* train = app.add_subcommand("train", "train a model from a config");
  add_config_args(train, args);
  train->add_option("--device", args.device, "cpu, cuda, cuda:N or auto (default: train.device, else auto)");
  train->add_option("--out", out_dir, "output folder for checkpoint.pt and metrics.jsonl (default: runs/<config>)");
  train->add_option("--resume", resume, "continue from a checkpoint written by this config")->check(CLI::ExistingFile);

  auto* eval = app.add_subcommand("eval", "evaluate a checkpoint on the config's validation data");
  add_config_args(eval, args);
  eval->add_option("--checkpoint", checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  eval->add_option("--device", args.device, "cpu, cuda, cuda:N or auto");
  eval->add_option("--split", split, "valid (default) or test (image classification, translation)")
      ->check(CLI::IsMember({"valid", "test"}));

  auto* decode = app.add_subcommand("decode", "greedy-decode token ids with a sequence-to-sequence checkpoint");
  decode->add_option("--checkpoint", checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  decode->add_option("SOURCE", source, "space-separated source token ids, e.g. \"1 2 3 4\"")->required();
  decode->add_option("--max-len", max_len, "output length, start symbol included (default: the source length)")
      ->check(CLI::NonNegativeNumber);
  decode->add_option("--device", args.device, "cpu, cuda, cuda:N or auto");

  auto* predict = app.add_subcommand("predict", "classify images with an image-classification checkpoint");
  predict->add_option("--checkpoint", checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  predict->add_option("INPUT", predict_inputs,
                      "image classifiers: PNG files, or IDX_FILE:INDEX for an image of an IDX file; text "
                      "classifiers read lines on stdin");
  predict->add_option("--top", top, "classes to print per input (default 3 for images, 1 for texts)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  predict->add_option("--device", args.device, "cpu, cuda, cuda:N or auto");

  torchzoo::train::TranslatorOptions decoding;
  add_decoding_options(eval, decoding);

  auto* data = app.add_subcommand("data", "prepare corpora");
  data->require_subcommand(1);
  auto* prepare = data->add_subcommand("prepare", "download and align a parallel corpus into TSV splits");
  std::string corpus, prepare_out;
  torchzoo::data::HelpCorpusOptions help_options;
  prepare->add_option("CORPUS", corpus, "libreoffice-help (parallel) or libreoffice-langid (language identification)")
      ->required();
  std::vector<std::string> langid_languages;
  prepare->add_option("--languages", langid_languages, "libreoffice-langid's classes (default de,fr,es,it,pt)")
      ->delimiter(',');
  prepare->add_option_function<std::string>(
      "--src", [&](const std::string& lang) { help_options.src_lang(lang); }, "source language (default en-US)");
  prepare->add_option_function<std::string>(
      "--tgt", [&](const std::string& lang) { help_options.tgt_lang(lang); }, "target language (default de)");
  prepare->add_option("--out", prepare_out, "output folder (default data/libreoffice-help/<src>-<tgt>)");
  prepare->add_option_function<std::string>(
      "--cache", [&](const std::string& dir) { help_options.cache_dir(dir); },
      "where the downloaded packages are kept (default data/cache/libreoffice-help)");
  prepare
      ->add_option_function<int64_t>(
          "--max-chars", [&](int64_t n) { help_options.max_chars(n); },
          "drop pairs with a side longer than this many characters (default 400)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));

  auto* translate = app.add_subcommand("translate", "translate stdin lines with a translation checkpoint");
  translate->add_option("--checkpoint", checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  translate->add_option("--device", args.device, "cpu, cuda, cuda:N or auto");
  bool quiet = false;
  translate->add_flag("--quiet", quiet, "no progress line on stderr");
  add_decoding_options(translate, decoding);

  auto* bleu = app.add_subcommand("bleu", "corpus BLEU of stdin against reference files, as sacreBLEU computes it");
  std::vector<std::string> ref_paths;
  std::string bleu_format = "json", bleu_tokenize = "13a";
  bool lowercase = false;
  bleu->add_option("REF", ref_paths, "reference files, one sentence per line")->required()->check(CLI::ExistingFile);
  bleu->add_option("-f,--format", bleu_format, "json (sacreBLEU's default) or text")
      ->check(CLI::IsMember({"json", "text"}));
  bleu->add_option("--tokenize", bleu_tokenize, "13a (default) or none")->check(CLI::IsMember({"13a", "none"}));
  bleu->add_flag("--lowercase", lowercase, "case-insensitive BLEU");

  auto* average = app.add_subcommand("average", "average the weights of checkpoints of one model");
  std::vector<std::string> average_inputs;
  std::string average_out;
  average->add_option("CHECKPOINT", average_inputs, "checkpoints")->required()->check(CLI::ExistingFile);
  average->add_option("-o,--out", average_out, "output checkpoint")->required();

  auto* generate = app.add_subcommand("generate", "continue a prompt with a language model checkpoint");
  std::string prompt;
  torchzoo::train::GenerateOptions generation;
  torchzoo::train::SamplingOptions sampling;
  generate->add_option("--checkpoint", checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  generate->add_option("--prompt", prompt, "text to continue (default: none, the model starts from bos)");
  generate
      ->add_option_function<double>(
          "--temperature", [&sampling](double t) { sampling.temperature(t); },
          "sampling temperature (default 1; 0: greedy)")
      ->check(CLI::Range(0.0, 100.0));
  generate
      ->add_option_function<int64_t>(
          "--top-k", [&sampling](int64_t k) { sampling.top_k(k); }, "sample among the k most probable tokens (0: all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  generate
      ->add_option_function<double>(
          "--top-p", [&sampling](double p) { sampling.top_p(p); }, "sample within the nucleus of this probability")
      ->check(CLI::Range(0.000001, 1.0));
  generate->add_option_function<uint64_t>(
      "--seed", [&generation](uint64_t seed) { generation.seed(seed); }, "sampling seed (default 0)");
  generate
      ->add_option_function<int64_t>(
          "--max-tokens", [&generation](int64_t n) { generation.max_tokens(n); }, "tokens to generate (default 64)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  generate->add_flag_function(
      "--no-cache", [&generation](int64_t) { generation.use_cache(false); },
      "re-run the model on the whole prefix each step (slower)");
  bool ignore_eos = false;
  generate->add_flag("--ignore-eos", ignore_eos,
                     "generate --max-tokens tokens even past the end-of-text token (for speed measurements)");
  generate->add_option("--device", args.device, "cpu, cuda, cuda:N or auto");

  auto* export_command =
      app.add_subcommand("export", "write a checkpoint's model as TorchScript or as safetensors weights");
  std::string export_format = "torchscript", export_out;
  export_command->add_option("--checkpoint", checkpoint, "checkpoint file")->required()->check(CLI::ExistingFile);
  export_command
      ->add_option("--format", export_format,
                   "torchscript (default: a module with forward and decoding methods, for torch.jit.load / "
                   "torch::jit::load) or safetensors (the weights under the Python references' names)")
      ->check(CLI::IsMember({"torchscript", "safetensors"}));
  export_command->add_option("-o,--out", export_out, "output file, e.g. model.pt or model.safetensors")->required();

  auto* info = app.add_subcommand("info", "print a config's model: modules and parameter counts");
  add_config_args(info, args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*train) return run_train(args, out_dir, resume);
    if (*eval) return run_eval(args, checkpoint, split, decoding);
    if (*prepare) {
      return run_prepare(corpus, help_options, torchzoo::data::HelpLangIdOptions(), langid_languages, prepare_out);
    }
    if (*translate) return run_translate(checkpoint, decoding, args.device, quiet);
    if (*bleu) return run_bleu(ref_paths, bleu_format, lowercase, bleu_tokenize);
    if (*average) return run_average(average_inputs, average_out);
    if (*generate) return run_generate(checkpoint, prompt, generation.sampling(sampling), ignore_eos, args.device);
    if (*predict) return run_predict(checkpoint, predict_inputs, top, args.device);
    if (*decode) return run_decode(checkpoint, source, max_len, args.device);
    if (*export_command) return run_export(checkpoint, export_format, export_out);
    if (*info) return run_info(args);
  } catch (const torchzoo::configs::ConfigError& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 2;
  } catch (const CLI::ValidationError& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 2;
  } catch (const c10::Error& error) {
    std::cerr << "error: " << error.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
