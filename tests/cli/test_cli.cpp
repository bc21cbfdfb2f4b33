// Runs the torchzoo executable as a user would and checks its output and exit codes.
#include <torch/script.h>
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "../support/learning.h"
#include "torchzoo/data/png.h"
#include "torchzoo/train/autocast.h"

namespace fs = std::filesystem;

namespace {

struct Run {
  int code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

fs::path scratch() {
  auto dir = fs::temp_directory_path() / ("torchzoo_cli_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

/// run_torchzoo(ARGS) runs `torchzoo ARGS` from the source root, capturing stdout, stderr and the exit code;
/// `env` (e.g. "TORCHZOO_DATA_DIR='/tmp/d'") is set for that one command.
Run run_torchzoo(const std::string& args, const std::string& env = "") {
  const auto dir = scratch();
  const auto out = dir / "stdout.txt";
  const auto err = dir / "stderr.txt";
  const std::string command = std::string("cd '") + TORCHZOO_SOURCE_DIR + "' && " + env + " '" + TORCHZOO_CLI +
                              "' " + args + " > '" + out.string() + "' 2> '" + err.string() + "'";
  const int status = std::system(command.c_str());
  Run run;
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_file(out);
  run.err = read_file(err);
  return run;
}

/// The share of a PNG's pixels that are not white: a picture with content, not a blank canvas.
double inked_share(const fs::path& png) {
  const auto image = torchzoo::data::read_png(png.string(), 3).to(torch::kInt);  // [3, H, W]
  return (image.sum(0) < 3 * 250).to(torch::kFloat).mean().item<double>();
}

/// Lines of `text`.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// ` --set train.seed=N` when the run was given Catch's --rng-seed N (tests/support/learning.h), else "".
std::string seed_flag() {
  const auto seed = torchzoo::testing::train_seed_override();
  return seed.empty() ? "" : " --set " + seed;
}

}  // namespace

TEST_CASE("torchzoo --help lists the commands, and each command has --help", "[cli]") {
  auto help = run_torchzoo("--help");
  REQUIRE(help.code == 0);
  for (const auto* command : {"train", "eval", "decode", "info", "generate", "export"}) {
    CHECK_THAT(help.out, Catch::Contains(command));
    auto sub = run_torchzoo(std::string(command) + " --help");
    INFO(command << ": " << sub.out << sub.err);
    CHECK(sub.code == 0);
    CHECK_THAT(sub.out, Catch::Contains("Usage"));
  }
  auto train_help = run_torchzoo("train --help");
  CHECK_THAT(train_help.out, Catch::Contains("--set") && Catch::Contains("--device") && Catch::Contains("--out"));
}

TEST_CASE("torchzoo info prints the modules and parameter counts", "[cli]") {
  auto info = run_torchzoo("info configs/copy_task.yaml");
  INFO(info.err);
  REQUIRE(info.code == 0);
  CHECK_THAT(info.out, Catch::Contains("torchzoo::models::EncoderDecoder(src_vocab=11"));
  CHECK_THAT(info.out, Catch::Contains("MultiHeadedAttention(d_model=512, num_heads=8"));
  // The reference's copy-task model (make_model(11, 11, N=2)) has 14,731,787 parameters (counted with tests/reference).
  CHECK_THAT(info.out, Catch::Contains("total") && Catch::Contains("14,731,787"));

  // Each --set takes one assignment, so the config may follow it.
  auto overridden = run_torchzoo("info --set model.num_layers=1 --set model.d_model=64 configs/copy_task.yaml");
  INFO(overridden.err);
  REQUIRE(overridden.code == 0);
  CHECK_THAT(overridden.out, Catch::Contains("EncoderDecoder(src_vocab=11, tgt_vocab=11, num_layers=1, d_model=64"));
}

TEST_CASE("A bad config exits with code 2, names file, line and key, and writes nothing", "[cli][errors]") {
  const auto out_dir = scratch() / "never_written";
  fs::remove_all(out_dir);
  auto run = run_torchzoo("train configs/copy_task_tiny.yaml --set model.d_modl=64 --out '" + out_dir.string() + "'");
  REQUIRE(run.code == 2);
  CHECK_THAT(run.err, Catch::Contains("error: --set model.d_modl=64: model.d_modl: unknown key; allowed keys:") &&
                          Catch::Contains("d_model"));
  CHECK_THAT(run.err, !Catch::Contains("Exception raised from"));
  CHECK_FALSE(fs::exists(out_dir));

  auto type = run_torchzoo("info configs/copy_task.yaml --set model.num_layers=two");
  REQUIRE(type.code == 2);
  CHECK_THAT(type.err, Catch::Contains("model.num_layers"));

  auto missing = run_torchzoo("train configs/does_not_exist.yaml");
  REQUIRE(missing.code == 2);
  CHECK_THAT(missing.err, Catch::Contains("does_not_exist.yaml"));

  auto no_command = run_torchzoo("");
  REQUIRE(no_command.code == 2);
}

TEST_CASE("train, eval and decode work end to end on a small copy task", "[cli][learning]") {
  const auto out_dir = scratch() / "run";
  fs::remove_all(out_dir);
  auto train =
      run_torchzoo("train configs/copy_task_tiny.yaml --set train.epochs=1 --set data.train_batches=3 --out '" +
                   out_dir.string() + "' --device cpu" + seed_flag());
  INFO(train.err);
  REQUIRE(train.code == 0);
  CHECK_THAT(train.err, Catch::Contains("epoch 1/1 done") && Catch::Contains("train loss"));
  CHECK_THAT(train.out, Catch::Contains("finished: 1 epochs, 3 steps") && Catch::Contains("greedy:"));
  const auto checkpoint = (out_dir / "checkpoint.pt").string();
  REQUIRE(fs::exists(checkpoint));
  REQUIRE(fs::exists(out_dir / "metrics.jsonl"));
  CHECK_THAT(read_file(out_dir / "metrics.jsonl"), Catch::Contains("{\"event\": \"epoch\", \"epoch\": 1, \"step\": 3"));

  auto eval = run_torchzoo("eval configs/copy_task_tiny.yaml --checkpoint '" + checkpoint + "'");
  INFO(eval.err);
  REQUIRE(eval.code == 0);
  CHECK_THAT(eval.out, Catch::Contains("valid loss") && Catch::Contains("valid token_accuracy"));

  auto decode = run_torchzoo("decode --checkpoint '" + checkpoint + "' \"1 2 3 4\"");
  INFO(decode.err);
  REQUIRE(decode.code == 0);
  std::istringstream tokens(decode.out);
  int count = 0;
  for (int64_t token; tokens >> token; ++count) CHECK((token >= 0 && token < 11));
  CHECK(count == 4);  // max_len = the source length, start symbol included

  // The TorchScript export decodes as `decode` does; safetensors export writes the weights.
  const auto script = (out_dir / "export" / "model.pt").string();
  auto exported = run_torchzoo("export --checkpoint '" + checkpoint + "' -o '" + script + "'");
  INFO(exported.err);
  REQUIRE(exported.code == 0);
  CHECK_THAT(exported.out,
             Catch::Contains("methods: ") && Catch::Contains("greedy_decode") && Catch::Contains("files: config.yaml"));
  auto module = torch::jit::load(script);
  auto src = torch::tensor(std::vector<int64_t>{1, 2, 3, 4}).unsqueeze(0);  // [1, 4]
  auto ys = module.run_method("greedy_decode", src, torch::ones({1, 1, 4}, torch::kBool), 4).toTensor();
  std::ostringstream printed;
  for (int64_t i = 0; i < ys.size(1); ++i) printed << (i ? " " : "") << ys[0][i].item<int64_t>();
  CHECK_THAT(decode.out, Catch::Contains(printed.str()));
  auto weights = run_torchzoo("export --checkpoint '" + checkpoint + "' --format safetensors -o '" +
                              (out_dir / "export" / "model.safetensors").string() + "'");
  CHECK(weights.code == 0);
  CHECK_THAT(weights.out, Catch::Contains("exported encoder_decoder (") && Catch::Contains("tensors)"));
  auto bad_format = run_torchzoo("export --checkpoint '" + checkpoint + "' --format onnx -o x.onnx");
  CHECK(bad_format.code == 2);
  CHECK_THAT(bad_format.err, Catch::Contains("--format"));

  auto bad_tokens = run_torchzoo("decode --checkpoint '" + checkpoint + "' \"1 two 3\"");
  CHECK(bad_tokens.code == 2);
  CHECK_THAT(bad_tokens.err, Catch::Contains("expected space-separated token ids, got 'two'"));
  auto out_of_vocab = run_torchzoo("decode --checkpoint '" + checkpoint + "' \"1 42\"");
  CHECK(out_of_vocab.code == 1);
  CHECK_THAT(out_of_vocab.err, Catch::Contains("token 42 is outside the source vocabulary [0, 11)"));
  fs::remove_all(out_dir);
}

TEST_CASE("train, eval --split test and predict work on a small ViT", "[cli]") {
  const auto out_dir = scratch() / "vit";
  fs::remove_all(out_dir);
  auto train = run_torchzoo(
      "train configs/vit_fashion_mnist_tiny.yaml --set train.epochs=1 --set data.train_subset=1000 "
      "--out '" +
      out_dir.string() + "' --device cpu");
  INFO(train.err);
  REQUIRE(train.code == 0);
  CHECK_THAT(train.out, Catch::Contains("confusion matrix") && Catch::Contains("9 Ankle boot"));
  const auto best = (out_dir / "best.pt").string();
  REQUIRE(fs::exists(best));
  REQUIRE(fs::exists(out_dir / "confusion_matrix.csv"));

  auto eval = run_torchzoo("eval configs/vit_fashion_mnist_tiny.yaml --checkpoint '" + best + "' --split test");
  INFO(eval.err);
  REQUIRE(eval.code == 0);
  CHECK_THAT(eval.out,
             Catch::Contains("(test split, 10000 images) | accuracy") && Catch::Contains("| top-5 accuracy "));

  const std::string test_images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  auto predict =
      run_torchzoo("predict --checkpoint '" + best + "' --top 2 " + test_images + ":0 " + test_images + ":1");
  INFO(predict.err);
  REQUIRE(predict.code == 0);
  std::istringstream lines(predict.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    CHECK_THAT(line, Catch::StartsWith(test_images + ":"));
    CHECK(std::count(line.begin(), line.end(), '|') == 1);  // two classes with probabilities
  }
  CHECK(count == 2);

  auto out_of_range = run_torchzoo("predict --checkpoint '" + best + "' " + test_images + ":10000");
  CHECK(out_of_range.code == 2);
  CHECK_THAT(out_of_range.err, Catch::Contains("holds 10000 images; index 10000 is out of range"));
  auto not_png = run_torchzoo("predict --checkpoint '" + best + "' configs/vit_fashion_mnist_tiny.yaml");
  CHECK(not_png.code == 1);
  CHECK_THAT(not_png.err, Catch::Contains("PNG file 'configs/vit_fashion_mnist_tiny.yaml'"));
  auto wrong_task = run_torchzoo("eval configs/copy_task_tiny.yaml --checkpoint '" + best + "'");
  CHECK(wrong_task.code != 0);

  // The class token's attention over the image: per layer, their mean and the rollout.
  const auto picture = out_dir / "vit_attention.png";
  auto attention =
      run_torchzoo("attention --checkpoint '" + best + "' " + test_images + ":0 -o '" + picture.string() + "'");
  INFO(attention.err);
  REQUIRE(attention.code == 0);
  CHECK_THAT(attention.out, Catch::Contains("class token's attention | " + test_images + ":0 → "));
  REQUIRE(fs::exists(picture));
  CHECK(inked_share(picture) > 0.2);
  auto heads = run_torchzoo("attention --checkpoint '" + best + "' " + test_images + ":1 --heads --layer 0 -o '" +
                            (out_dir / "heads.svg").string() + "'");
  INFO(heads.err);
  CHECK(heads.code == 0);
  CHECK(fs::file_size(out_dir / "heads.svg") > 1000);
  fs::remove_all(out_dir);
}

TEST_CASE("train, translate, bleu, eval --beam and average work end to end on translation_tiny",
          "[cli][translation][learning]") {
  const auto dir = scratch() / "translation";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string tokenizer = " --set data.tokenizer.prefix='" + (dir / "spm").string() + "'";
  auto train = run_torchzoo("train configs/translation_tiny.yaml" + tokenizer + " --out '" + (dir / "run").string() +
                            "' --device cpu" + seed_flag());
  INFO(train.err);
  REQUIRE(train.code == 0);
  const auto best = (dir / "run" / "best.pt").string();
  const auto last = (dir / "run" / "checkpoint.pt").string();
  REQUIRE(fs::exists(best));

  // The fixture's two sides as one-sentence-per-line files.
  std::ifstream fixture(std::string(TORCHZOO_SOURCE_DIR) + "/tests/data/fixtures/tiny_en_de.tsv");
  std::ofstream src_file(dir / "src.en"), ref_file(dir / "ref.de");
  int pairs = 0;
  for (std::string line; std::getline(fixture, line); ++pairs) {
    const auto tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    src_file << line.substr(0, tab) << '\n';
    ref_file << line.substr(tab + 1) << '\n';
  }
  src_file.close();
  ref_file.close();
  REQUIRE(pairs == 50);

  const auto hyp = dir / "hyp.de";
  auto translate =
      run_torchzoo("translate --quiet --beam 4 --checkpoint '" + best + "' < '" + (dir / "src.en").string() + "'");
  INFO(translate.err);
  REQUIRE(translate.code == 0);
  CHECK(std::count(translate.out.begin(), translate.out.end(), '\n') == pairs);
  std::ofstream(hyp) << translate.out;

  auto bleu = run_torchzoo("bleu '" + (dir / "ref.de").string() + "' < '" + hyp.string() + "'");
  INFO(bleu.err);
  REQUIRE(bleu.code == 0);
  CHECK_THAT(bleu.out, Catch::Contains("\"name\": \"BLEU\"") && Catch::Contains("version:2.6.0+torchzoo"));
  const auto at = bleu.out.find("\"score\": ");
  REQUIRE(at != std::string::npos);
  const double score = std::stod(bleu.out.substr(at + 9));
  INFO("beam 4 BLEU " << score);
  CHECK(score > 80.0);
  auto text = run_torchzoo("bleu -f text '" + (dir / "ref.de").string() + "' < '" + hyp.string() + "'");
  REQUIRE(text.code == 0);
  CHECK_THAT(text.out, Catch::StartsWith("BLEU|nrefs:1|") && Catch::Contains(" = "));

  auto eval = run_torchzoo("eval configs/translation_tiny.yaml" + tokenizer + " --checkpoint '" + best + "' --beam 4");
  INFO(eval.err);
  REQUIRE(eval.code == 0);
  CHECK_THAT(eval.out, Catch::Contains("(valid split, 50 pairs, beam 4)") && Catch::Contains("| bleu ") &&
                           Catch::Contains("| chrf "));

  // n-best lists: three lines per sentence in Moses' format, best first, the first the beam's translation.
  const auto src = (dir / "src.en").string();
  auto nbest = run_torchzoo("translate --quiet --beam 4 --n-best 3 --checkpoint '" + best + "' < '" + src + "'");
  INFO(nbest.err);
  REQUIRE(nbest.code == 0);
  const auto nbest_lines = lines_of(nbest.out), beam_lines = lines_of(translate.out);
  REQUIRE(nbest_lines.size() == 3 * static_cast<size_t>(pairs));
  const std::regex moses(R"((\d+) \|\|\| (.*) \|\|\| LogProb=(-?[0-9.]+) \|\|\| (-?[0-9.]+))");
  for (size_t i = 0; i < nbest_lines.size(); ++i) {
    std::smatch m;
    INFO(nbest_lines[i]);
    REQUIRE(std::regex_match(nbest_lines[i], m, moses));
    CHECK(std::stoul(m[1]) == i / 3);
    if (i % 3 == 0) CHECK(m[2] == beam_lines[i / 3]);
    if (i % 3 > 0) {
      std::smatch previous;
      std::regex_match(nbest_lines[i - 1], previous, moses);
      CHECK(std::stod(m[4]) <= std::stod(previous[4]) + 1e-9);  // best score first
    }
  }
  auto too_many = run_torchzoo("translate --beam 2 --n-best 3 --checkpoint '" + best + "' < /dev/null");
  CHECK(too_many.code == 2);
  CHECK_THAT(too_many.err, Catch::Contains("--n-best: at most the beam size (2), got 3"));

  // Sampling: temperature 0 is greedy; a seed gives the same draws again; with a beam it is refused.
  auto greedy = run_torchzoo("translate --quiet --checkpoint '" + best + "' < '" + src + "'");
  auto cold = run_torchzoo("translate --quiet --temperature 0 --checkpoint '" + best + "' < '" + src + "'");
  REQUIRE(greedy.code == 0);
  CHECK(cold.out == greedy.out);
  const std::string sample =
      "translate --quiet --top-k 5 --temperature 1.5 --seed 3 --checkpoint '" + best + "' < '" + src + "'";
  auto drawn = run_torchzoo(sample), drawn_again = run_torchzoo(sample);
  INFO(drawn.err);
  REQUIRE(drawn.code == 0);
  CHECK(lines_of(drawn.out).size() == static_cast<size_t>(pairs));
  CHECK(drawn.out == drawn_again.out);
  CHECK(drawn.out != greedy.out);  // 50 sentences drawn at temperature 1.5 do not all come out greedy
  auto sampled_beam = run_torchzoo("translate --beam 4 --top-k 5 --checkpoint '" + best + "' < /dev/null");
  CHECK(sampled_beam.code == 2);

  // Cross-attention of one translation: source pieces along the top, target pieces down the side.
  std::string first_source;
  std::getline(std::ifstream(src), first_source);
  const auto picture = dir / "attention.png";
  auto attention =
      run_torchzoo("attention --checkpoint '" + best + "' '" + first_source + "' -o '" + picture.string() + "'");
  INFO(attention.err);
  REQUIRE(attention.code == 0);
  CHECK_THAT(attention.out, Catch::StartsWith("cross-attention | " + first_source.substr(0, 20)) &&
                                Catch::Contains("wrote " + picture.string()));
  CHECK(inked_share(picture) > 0.05);
  auto bad_layer = run_torchzoo("attention --checkpoint '" + best + "' 'Hello.' --heads --layer 99 -o '" +
                                (dir / "x.png").string() + "'");
  CHECK(bad_layer.code == 2);
  CHECK_THAT(bad_layer.err, Catch::Contains("--layer: the model has") && Catch::Contains("got 99"));
  CHECK_FALSE(fs::exists(dir / "x.png"));
  auto layer_alone = run_torchzoo("attention --checkpoint '" + best + "' 'Hello.' --layer 0");
  CHECK(layer_alone.code == 2);  // --layer needs --heads

  const auto averaged = (dir / "averaged.pt").string();
  auto average = run_torchzoo("average -o '" + averaged + "' '" + best + "' '" + last + "'");
  INFO(average.err);
  REQUIRE(average.code == 0);
  CHECK_THAT(average.out, Catch::Contains("averaged 2 checkpoints"));
  auto from_average =
      run_torchzoo("translate --quiet --checkpoint '" + averaged + "' < '" + (dir / "src.en").string() + "'");
  REQUIRE(from_average.code == 0);
  CHECK(std::count(from_average.out.begin(), from_average.out.end(), '\n') == pairs);

  // int8 linears, in token-counted batches: a BLEU near float32's.
  auto int8 = run_torchzoo("translate --quiet --quantize int8 --batch-type tokens --batch-size 200 --beam 4 "
                           "--checkpoint '" + best + "' < '" + (dir / "src.en").string() + "'");
  INFO(int8.err);
  REQUIRE(int8.code == 0);
  std::ofstream(dir / "hyp_int8.de") << int8.out;
  auto int8_bleu =
      run_torchzoo("bleu -f text '" + (dir / "ref.de").string() + "' < '" + (dir / "hyp_int8.de").string() + "'");
  REQUIRE(int8_bleu.code == 0);
  const double int8_score = std::stod(int8_bleu.out.substr(int8_bleu.out.find(" = ") + 3));
  INFO("int8 beam 4 BLEU " << int8_score << " against float32's " << score);
  CHECK(int8_score > score - 5.0);

  // Errors: line counts that differ, bytes that are not UTF-8, a checkpoint that is not there,
  // int8 with bf16 autocast.
  auto int8_bf16 = run_torchzoo("translate --quantize int8 --autocast bf16 --checkpoint '" + best + "' < /dev/null");
  CHECK(int8_bf16.code == 1);
  CHECK_THAT(int8_bf16.err, Catch::Contains("--autocast bf16 cannot go with it"));
  std::ofstream(dir / "short.de") << "Eins.\nZwei.\n";
  auto short_hyp = run_torchzoo("bleu '" + (dir / "ref.de").string() + "' < '" + (dir / "short.de").string() + "'");
  CHECK(short_hyp.code == 1);
  CHECK_THAT(short_hyp.err, Catch::Contains("ref.de' has 50 lines, the hypotheses on stdin 2"));
  std::ofstream(dir / "latin1.de") << "gr\xfc\xdf Gott\n";
  auto latin1 = run_torchzoo("bleu '" + (dir / "ref.de").string() + "' < '" + (dir / "latin1.de").string() + "'");
  CHECK(latin1.code == 1);
  CHECK_THAT(latin1.err, Catch::Contains("stdin:1: not valid UTF-8"));
  auto no_checkpoint = run_torchzoo("translate --checkpoint '" + (dir / "missing.pt").string() + "' < /dev/null");
  CHECK(no_checkpoint.code == 2);
  CHECK_THAT(no_checkpoint.err, Catch::Contains("missing.pt"));
  fs::remove_all(dir);
}

TEST_CASE("data prepare rejects unknown corpora and languages before downloading anything", "[cli][errors]") {
  const auto cache = scratch() / "help_cache";
  const auto out = scratch() / "help_out";
  fs::remove_all(cache);
  fs::remove_all(out);
  const std::string where = " --cache '" + cache.string() + "' --out '" + out.string() + "'";
  auto corpus = run_torchzoo("data prepare europarl" + where);
  CHECK(corpus.code == 2);
  CHECK_THAT(
      corpus.err,
      Catch::Contains("known corpora: libreoffice-help, libreoffice-langid, libreoffice-apps, minilm; got 'europarl'"));
  auto same = run_torchzoo("data prepare libreoffice-help --src de --tgt de" + where);
  CHECK(same.code == 1);
  CHECK_THAT(same.err, Catch::Contains("src_lang and tgt_lang are both 'de'"));
  auto bad_language = run_torchzoo("data prepare libreoffice-help --src en-US --tgt 'd e'" + where);
  CHECK(bad_language.code == 1);
  CHECK_THAT(bad_language.err, Catch::Contains("language 'd e' must be ASCII letters and '-'"));
  auto bad_langid = run_torchzoo("data prepare libreoffice-langid --languages de,fr,x_y" + where);
  CHECK(bad_langid.code == 1);
  CHECK_THAT(bad_langid.err, Catch::Contains("language 'x_y' must be ASCII letters and '-'"));
  auto twice = run_torchzoo("data prepare libreoffice-langid --languages de,fr,de" + where);
  CHECK(twice.code == 1);
  CHECK_THAT(twice.err, Catch::Contains("language 'de' is listed twice"));
  auto misplaced = run_torchzoo("data prepare libreoffice-help --languages de,fr" + where);
  CHECK(misplaced.code == 2);
  CHECK_THAT(misplaced.err, Catch::Contains("--languages: is for libreoffice-langid"));
  CHECK_FALSE(fs::exists(cache));
  CHECK_FALSE(fs::exists(out));
  // Without --out and --cache both default into the data directory, which stays untouched too.
  const auto data = scratch() / "help_data_dir";
  fs::remove_all(data);
  auto by_default = run_torchzoo("data prepare libreoffice-help --src de --tgt de", "TORCHZOO_DATA_DIR='" +
                                                                                        data.string() + "'");
  CHECK(by_default.code == 1);
  CHECK_THAT(by_default.err, Catch::Contains("src_lang and tgt_lang are both 'de'"));
  CHECK_FALSE(fs::exists(data));
}

TEST_CASE("the data directory comes from --data-dir or TORCHZOO_DATA_DIR and fills ${data_dir} in configs",
          "[cli][data_dir]") {
  const auto dir = scratch() / "data_dir";
  fs::remove_all(dir);
  const auto data = dir / "corpora";
  const std::string env = "TORCHZOO_DATA_DIR='" + data.string() + "'";
  auto from_env = run_torchzoo("data dir", env);
  CHECK(from_env.code == 0);
  CHECK(from_env.out == data.string() + "\n");
  auto from_flag = run_torchzoo("--data-dir /srv/x data dir", env);
  CHECK(from_flag.out == "/srv/x\n");
  auto flag_after = run_torchzoo("data dir --data-dir /srv/y", env);
  CHECK(flag_after.out == "/srv/y\n");
  auto home = run_torchzoo("data dir", "env -u TORCHZOO_DATA_DIR -u XDG_CACHE_HOME HOME=/home/someone");
  CHECK(home.out == "/home/someone/.cache/torchzoo\n");
  auto empty = run_torchzoo("--data-dir '' data dir");
  CHECK(empty.code == 2);
  CHECK_THAT(empty.err, Catch::Contains("--data-dir") && Catch::Contains("expected a folder"));

  // A config naming ${data_dir} reads from wherever the flag points.
  auto missing = run_torchzoo("train configs/langid_tiny.yaml --set 'data.train=${data_dir}/tiny/none.tsv' --out '" +
                                  (dir / "run_missing").string() + "' --data-dir '" + data.string() + "'");
  CHECK(missing.code != 0);
  CHECK_THAT(missing.err, Catch::Contains((data / "tiny/none.tsv").string()));

  // And trains from it, found through the environment.
  fs::create_directories(data / "tiny");
  fs::copy_file(fs::path(TORCHZOO_SOURCE_DIR) / "tests/data/fixtures/tiny_langid_train.tsv", data / "tiny/train.tsv");
  fs::copy_file(fs::path(TORCHZOO_SOURCE_DIR) / "tests/data/fixtures/tiny_langid_valid.tsv", data / "tiny/valid.tsv");
  auto train = run_torchzoo("train configs/langid_tiny.yaml --set 'data.train=${data_dir}/tiny/train.tsv' "
                            "--set 'data.valid=${data_dir}/tiny/valid.tsv' "
                            "--set 'data.tokenizer.prefix=${data_dir}/spm' --set train.epochs=1 --out '" +
                                (dir / "run").string() + "'",
                            env);
  INFO(train.err);
  CHECK(train.code == 0);
  CHECK(fs::exists(data / "spm.model"));
  CHECK(fs::exists(dir / "run" / "checkpoint.pt"));
  fs::remove_all(dir);
}

TEST_CASE("train, eval and predict on stdin work end to end on langid_tiny", "[cli][text_classification][learning]") {
  const auto dir = scratch() / "langid";
  fs::remove_all(dir);
  const std::string tokenizer = " --set data.tokenizer.prefix='" + (dir / "spm").string() + "'";
  auto train = run_torchzoo("train configs/langid_tiny.yaml" + tokenizer + " --out '" + (dir / "run").string() +
                            "' --device cpu" + seed_flag());
  INFO(train.err);
  REQUIRE(train.code == 0);
  CHECK_THAT(train.out, Catch::Contains("confusion matrix") && Catch::Contains("accuracy by length (characters):"));
  const auto best = (dir / "run" / "best.pt").string();
  REQUIRE(fs::exists(best));

  auto eval = run_torchzoo("eval configs/langid_tiny.yaml" + tokenizer + " --checkpoint '" + best + "'");
  INFO(eval.err);
  REQUIRE(eval.code == 0);
  CHECK_THAT(eval.out, Catch::Contains("(valid split, 20 texts) | accuracy") && Catch::Contains("<=20"));
  auto no_test =
      run_torchzoo("eval configs/langid_tiny.yaml" + tokenizer + " --checkpoint '" + best + "' --split test");
  CHECK(no_test.code == 2);
  CHECK_THAT(no_test.err, Catch::Contains("names no test split"));

  std::ofstream(dir / "lines.txt") << "Klicken Sie auf die Schaltfläche.\nHaga clic en el botón.\n\n";
  // The TorchScript export carries the tokenizer and the class names, one per line in class order.
  auto exported = run_torchzoo("export --checkpoint '" + best + "' -o '" + (dir / "langid.pt").string() + "'");
  INFO(exported.err);
  REQUIRE(exported.code == 0);
  torch::jit::ExtraFilesMap files{{"classes.txt", ""}, {"tokenizer.model", ""}};
  torch::jit::load((dir / "langid.pt").string(), torch::kCPU, files);
  CHECK(files.at("classes.txt") == "de\nes\nfr\nit\npt\n");
  CHECK_FALSE(files.at("tokenizer.model").empty());

  auto predict = run_torchzoo("predict --checkpoint '" + best + "' --top 2 < '" + (dir / "lines.txt").string() + "'");
  INFO(predict.err);
  REQUIRE(predict.code == 0);
  std::istringstream lines(predict.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    CHECK(std::count(line.begin(), line.end(), '\t') == 3);  // two classes, each with its probability
  }
  CHECK(count == 3);
  CHECK_THAT(predict.out, Catch::StartsWith("de\t"));
  auto with_inputs = run_torchzoo("predict --checkpoint '" + best + "' some.png < /dev/null");
  CHECK(with_inputs.code == 2);
  CHECK_THAT(with_inputs.err, Catch::Contains("a text classifier reads its texts from stdin"));

  const auto picture = dir / "langid_attention.png";
  auto attention = run_torchzoo("attention --checkpoint '" + best + "' 'Klicken Sie auf die Schaltfläche.' -o '" +
                                picture.string() + "'");
  INFO(attention.err);
  REQUIRE(attention.code == 0);
  CHECK_THAT(attention.out, Catch::StartsWith("Klicken Sie auf die Schaltfläche. → "));
  CHECK(inked_share(picture) > 0.05);
  fs::remove_all(dir);
}

TEST_CASE("train and generate work end to end on lm_tiny", "[cli][language_model][learning]") {
  const auto dir = scratch() / "lm";
  fs::remove_all(dir);
  const std::string tokenizer = " --set data.tokenizer.prefix='" + (dir / "spm").string() + "'";
  auto train = run_torchzoo("train configs/lm_tiny.yaml" + tokenizer + " --set train.epochs=5 --out '" +
                            (dir / "run").string() + "' --device cpu" + seed_flag());
  INFO(train.err);
  REQUIRE(train.code == 0);
  CHECK_THAT(train.out, Catch::Contains("perplexity"));
  const auto checkpoint = (dir / "run" / "checkpoint.pt").string();
  // The TorchScript export carries the tokenizer, and generate with the tokenizer's end symbol.
  const auto script = (dir / "lm.pt").string();
  auto exported = run_torchzoo("export --checkpoint '" + checkpoint + "' -o '" + script + "'");
  INFO(exported.err);
  REQUIRE(exported.code == 0);
  CHECK_THAT(exported.out, Catch::Contains("generate") && Catch::Contains("tokenizer.model"));
  torch::jit::ExtraFilesMap files{{"tokenizer.model", ""}};
  auto module = torch::jit::load(script, torch::kCPU, files);
  CHECK(files.at("tokenizer.model").size() > 100);
  auto continued =
      module.run_method("generate", torch::tensor(std::vector<int64_t>{1, 5}).unsqueeze(0), 6, 0.0).toTensor();
  CHECK(continued.size(1) > 2);
  CHECK(continued.size(1) <= 8);
  const std::string base = "generate --checkpoint '" + checkpoint + "' --prompt 'The man' --max-tokens 12 ";
  auto sampled = run_torchzoo(base + "--top-k 10 --temperature 0.8 --seed 3");
  INFO(sampled.err);
  REQUIRE(sampled.code == 0);
  CHECK_THAT(sampled.out, Catch::StartsWith("The man"));
  auto again = run_torchzoo(base + "--top-k 10 --temperature 0.8 --seed 3");
  CHECK(again.out == sampled.out);
  auto uncached = run_torchzoo(base + "--top-k 10 --temperature 0.8 --seed 3 --no-cache");
  CHECK(uncached.out == sampled.out);
  auto greedy = run_torchzoo(base + "--temperature 0");
  REQUIRE(greedy.code == 0);
  CHECK_THAT(greedy.out, Catch::StartsWith("The man"));
  // Prompts from a file, in batches: one line each, greedy continuations as one at a time.
  std::ofstream(dir / "prompts.txt") << "The man\nThe\n\nThe man\n";
  auto batched = run_torchzoo("generate --checkpoint '" + checkpoint + "' --input '" + (dir / "prompts.txt").string() +
                              "' --batch-size 3 --max-tokens 12 --temperature 0");
  INFO(batched.err);
  REQUIRE(batched.code == 0);
  const auto outputs = lines_of(batched.out);
  REQUIRE(outputs.size() == 4);
  CHECK(outputs[0] + "\n" == greedy.out);
  CHECK(outputs[3] == outputs[0]);
  CHECK_THAT(outputs[1], Catch::StartsWith("The"));
  CHECK(outputs[1] != outputs[0]);
  auto from_stdin =
      run_torchzoo("generate --checkpoint '" + checkpoint + "' --input - --max-tokens 12 --temperature 0 < '" +
                   (dir / "prompts.txt").string() + "'");
  CHECK(from_stdin.out == batched.out);
  auto both = run_torchzoo("generate --checkpoint '" + checkpoint + "' --input - --prompt x < /dev/null");
  CHECK(both.code == 2);
  auto bad_p = run_torchzoo(base + "--top-p 1.5");
  CHECK(bad_p.code == 2);
  auto not_lm = run_torchzoo("generate --checkpoint '" + checkpoint + "x' --prompt a");
  CHECK(not_lm.code == 2);
  fs::remove_all(dir);
}

TEST_CASE("The first log line says which autocast was chosen and why, and slow explicit choices warn",
          "[cli][autocast]") {
  const auto out_dir = scratch() / "autocast";
  fs::remove_all(out_dir);
  const std::string tiny = "train configs/copy_task_tiny.yaml --set train.epochs=1 --set data.train_batches=2 --out '" +
                           out_dir.string() + "' --device cpu --overwrite";
  const bool native_bf16 = torchzoo::train::native_support(torch::kCPU, torch::kBFloat16).native;
  auto automatic = run_torchzoo(tiny + " --autocast auto");
  INFO(automatic.err);
  REQUIRE(automatic.code == 0);
  const auto first_line = automatic.err.substr(0, automatic.err.find('\n'));
  CHECK_THAT(first_line, Catch::Contains(native_bf16 ? "autocast bf16 (auto: " : "autocast none (auto: "));
  if (native_bf16) {
    CHECK_THAT(first_line, Catch::Contains("has AMX-BF16") || Catch::Contains("has AVX512-BF16"));
  } else {
    CHECK_THAT(first_line, Catch::Contains("has neither AMX-BF16 nor AVX512-BF16"));
  }

  auto explicit_bf16 = run_torchzoo(tiny + " --autocast bf16");
  INFO(explicit_bf16.err);
  REQUIRE(explicit_bf16.code == 0);
  CHECK_THAT(explicit_bf16.err, Catch::Contains("autocast bf16 (--autocast bf16)") ||
                                    Catch::Contains("autocast bf16 (train.autocast bf16)"));
  CHECK((explicit_bf16.err.find("warning: autocast bf16 on cpu") != std::string::npos) == !native_bf16);

  // Inference follows the checkpoint's setting, and --autocast overrides it.
  const auto checkpoint = (out_dir / "checkpoint.pt").string();
  auto decode = run_torchzoo("decode --checkpoint '" + checkpoint + "' \"1 2 3 4\" --autocast fp16");
  INFO(decode.err);
  CHECK(decode.code == 0);
  auto bad = run_torchzoo("decode --checkpoint '" + checkpoint + "' \"1 2 3 4\" --autocast fp8");
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--autocast"));
  auto fp16 = run_torchzoo(tiny + " --autocast fp16");
  CHECK(fp16.code == 0);
  CHECK_THAT(fp16.err, Catch::Contains("with dynamic loss scaling"));
  CHECK_THAT(fp16.err, Catch::Contains("linear kernel blas (auto: autocast Half casts through at::linear)"));
}

TEST_CASE("embed refuses a folder that is not a sentence-transformers BERT, saying what is missing", "[cli][embed]") {
  const auto dir = scratch() / "embed_empty";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto empty = run_torchzoo("embed --checkpoint '" + dir.string() + "' < /dev/null");
  CHECK(empty.code != 0);
  CHECK_THAT(empty.err, Catch::Contains("tokenizer.json"));
  auto missing = run_torchzoo("embed --checkpoint '" + (dir / "nope").string() + "' < /dev/null");
  CHECK(missing.code == 2);
  fs::remove_all(dir);
}

TEST_CASE("The first log line says which linear kernel trains, and a bad train.linear_kernel is refused",
          "[cli][linear_kernel]") {
  const auto out_dir = scratch() / "linear_kernel";
  fs::remove_all(out_dir);
  const std::string tiny = "train configs/copy_task_tiny.yaml --set train.epochs=1 --set data.train_batches=2 --out '" +
                           out_dir.string() + "' --device cpu --autocast none --overwrite";
  auto automatic = run_torchzoo(tiny);
  INFO(automatic.err);
  REQUIRE(automatic.code == 0);
  const auto first_line = automatic.err.substr(0, automatic.err.find('\n'));
  CHECK_THAT(first_line, Catch::Contains("linear kernel blas (auto: onednn ") ||
                             Catch::Contains("linear kernel onednn (auto: onednn "));
  auto onednn = run_torchzoo(tiny + " --set train.linear_kernel=onednn");
  INFO(onednn.err);
  REQUIRE(onednn.code == 0);
  CHECK_THAT(onednn.err, Catch::Contains("linear kernel onednn (train.linear_kernel onednn)"));
  auto bad = run_torchzoo(tiny + " --set train.linear_kernel=mkl");
  CHECK(bad.code != 0);
  CHECK_THAT(bad.err, Catch::Contains("linear_kernel") && Catch::Contains("mkl"));
  fs::remove_all(out_dir);
}

TEST_CASE("An EMA run writes ema.pt, which eval, decode and export take like any checkpoint", "[cli][ema]") {
  const auto out_dir = scratch() / "ema";
  fs::remove_all(out_dir);
  auto train = run_torchzoo("train configs/copy_task_tiny.yaml --set train.epochs=2 --set data.train_batches=5 "
                            "--set train.ema_decay=0.9 --out '" + out_dir.string() + "' --device cpu");
  INFO(train.err);
  REQUIRE(train.code == 0);
  CHECK_THAT(train.err, Catch::Contains("| ema valid loss"));
  CHECK_THAT(read_file(out_dir / "metrics.jsonl"), Catch::Contains("\"ema_valid_loss\""));
  const auto ema = (out_dir / "ema.pt").string();
  REQUIRE(fs::exists(ema));
  auto eval = run_torchzoo("eval configs/copy_task_tiny.yaml --checkpoint '" + ema + "'");
  INFO(eval.err);
  CHECK(eval.code == 0);
  auto decode = run_torchzoo("decode --checkpoint '" + ema + "' \"1 2 3 4\"");
  CHECK(decode.code == 0);
  auto exported = run_torchzoo("export --checkpoint '" + ema + "' -o '" + (out_dir / "ema.safetensors").string() +
                               "' --format safetensors");
  INFO(exported.err);
  CHECK(exported.code == 0);
  CHECK(fs::exists(out_dir / "ema.safetensors"));
}
