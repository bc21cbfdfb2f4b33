// Writes the fuzz targets' seed corpus: small valid inputs of each format, made by
// torchzoo's own writers (and the shipped configs), one folder per target.
// The committed corpus (tests/fuzz/corpus/) was made by:
//   build-sanitize/fuzz/make_fuzz_seeds tests/fuzz/corpus
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "checkpoint_model.h"
#include "torchzoo/data/idx.h"
#include "torchzoo/data/png.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/export/safetensors.h"

namespace fs = std::filesystem;
using namespace torchzoo;
using namespace std::string_literals;

namespace {

void write_seed(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void idx_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  data::write_idx((dir / "images.idx").string(), torch::arange(48, torch::kUInt8).view({3, 4, 4}));
  data::write_idx((dir / "labels.idx").string(), torch::tensor({0, 9, 3, 3, 7}, torch::kUInt8));
  data::write_idx((dir / "images.idx.gz").string(), torch::full({2, 3, 3}, 200, torch::kUInt8));
}

void png_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  data::write_png((dir / "grey.png").string(), torch::arange(35, torch::kUInt8).view({1, 5, 7}));
  data::write_png((dir / "rgb.png").string(), torch::arange(48, torch::kUInt8).view({3, 4, 4}).mul(5));
}

void safetensors_seeds(const fs::path& dir) {
  train::write_safetensors((dir / "mixed.safetensors").string(),
                           {{"w", torch::arange(6, torch::kFloat).view({2, 3})},
                            {"h", torch::ones({3}, torch::kHalf)},
                            {"b", torch::ones({2}, torch::kBFloat16)},
                            {"step", torch::tensor(int64_t{7})},
                            {"ids", torch::tensor({1, 2}, torch::kInt)},
                            {"mask", torch::tensor({true, false})},
                            {"empty", torch::zeros({0, 4})}},
                           {{"format", "pt"}, {"torchzoo.model", "fuzz"}});
  train::write_safetensors((dir / "plain.safetensors").string(), {{"x", torch::zeros({2, 2}, torch::kDouble)}});
}

void checkpoint_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  torch::manual_seed(0);
  fuzz::CheckpointModel model;
  auto optimizer = fuzz::checkpoint_optimizer(model);
  model->proj(torch::ones({2, 4})).sum().backward();
  optimizer->step();
  train::CheckpointState state;
  state.step = 1;
  state.epoch = 1;
  state.config = "model: {name: fuzz}\n";
  state.best = 0.5;
  train::save_checkpoint((dir / "training.pt").string(), *model, optimizer.get(), state);
  train::save_checkpoint((dir / "weights.pt").string(), *model, nullptr, state);
}

void text_seeds(const fs::path& dir, const fs::path& fixtures) {
  // The first byte picks the reader: 0 parallel TSV, 2 labeled TSV, 4 two files, 6 lines (+1: skip bad UTF-8).
  const std::string tsv = "Hello world.\tHallo Welt.\r\nA second line\tEine zweite Zeile\n\xef\xbb\xbf\tx\n";
  write_seed(dir / "parallel.tsv", "\x00"s + tsv);
  write_seed(dir / "parallel_skip.tsv", "\x01" + tsv + "bad \xff byte\tx\n");
  write_seed(dir / "parallel_fixture.tsv", "\x00"s + read_file(fixtures / "tiny_en_de.tsv"));
  write_seed(dir / "labeled.tsv", "\x02" + read_file(fixtures / "tiny_langid_valid.tsv"));
  write_seed(dir / "files.txt", "\x04one\ntwo\n\0eins\nzwei\n"s);
  write_seed(dir / "lines.txt", "\x06" + read_file(fixtures / "tiny_en.txt").substr(0, 300));
}

void bleu_seeds(const fs::path& dir) {
  write_seed(dir / "pair.txt", "The cat sat on the mat.\0The cat is on the mat."s);
  write_seed(dir / "refs.txt", "It costs $1,000.50-ish, &quot;ok&quot;?\0It costs 1000\0<skipped> it-\ncosts"s);
  write_seed(dir / "unicode.txt", "\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xc4\xb0stanbul \xe3\x80\x80 caf\xc3\xa9\n");
}

void config_seeds(const fs::path& dir, const fs::path& configs) {
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(configs)) {
    if (entry.path().extension() != ".yaml") continue;
    write_seed(dir / entry.path().filename(), read_file(entry.path()));
  }
  write_seed(dir / "overrides.yaml", read_file(configs / "copy_task_tiny.yaml") +
                                         "\0train.max_steps=3\0optimizer.betas=[0.9, 0.98]"s);
  write_seed(dir / "aliases.yaml", "base: &b {d_model: 8, layers: 2}\nmodel: *b\ntrain: {save_every: {steps: 5}}\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_seeds OUT_DIR (run from the source root)\n";
    return 2;
  }
  try {
    const fs::path out = argv[1];
    idx_seeds(out / "idx");
    png_seeds(out / "png");
    safetensors_seeds(out / "safetensors");
    checkpoint_seeds(out / "checkpoint");
    text_seeds(out / "text", "tests/data/fixtures");
    bleu_seeds(out / "bleu");
    config_seeds(out / "config", "configs");
  } catch (const std::exception& e) {
    std::cerr << "make_fuzz_seeds: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
