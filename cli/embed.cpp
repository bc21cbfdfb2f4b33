// torchzoo embed --checkpoint DIR [--output FILE.jsonl|FILE.npy] [--batch-size N]: sentence
// embeddings of stdin's lines with a sentence-transformers BERT folder (train/sentence_embedder.h).
#include <cstring>
#include <iostream>
#include <sstream>

#include "torchzoo/cli/command.h"
#include "torchzoo/cli/common.h"
#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/format.h"
#include "torchzoo/common/json.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/train/device.h"
#include "torchzoo/train/sentence_embedder.h"

namespace torchzoo::cli {
namespace {

struct EmbedArgs {
  std::string checkpoint, output, device = "cpu";
  int64_t batch_size = 32;
};

/// One JSON object a sentence: {"text": ..., "embedding": [...]}, floats to 8 significant digits.
std::string to_jsonl(const std::vector<std::string>& sentences, const torch::Tensor& vectors) {
  std::string out;
  const auto* v = vectors.data_ptr<float>();
  const auto dim = vectors.size(1);
  for (size_t i = 0; i < sentences.size(); ++i) {
    out += "{\"text\": " + common::json_string(sentences[i]) + ", \"embedding\": [";
    for (int64_t j = 0; j < dim; ++j) out += fmt::format("{}{:.8g}", j ? ", " : "", v[i * dim + j]);
    out += "]}\n";
  }
  return out;
}

/// NumPy's .npy format, version 1.0: float32 [N, dim], little-endian, C order.
std::string to_npy(const torch::Tensor& vectors) {
  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", vectors.size(0), vectors.size(1));
  // magic (6) + version (2) + length (2) + header + '\n', padded with spaces to a multiple of 64
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  const auto bytes = static_cast<size_t>(vectors.numel()) * sizeof(float);
  const auto start = out.size();
  out.resize(start + bytes);
  std::memcpy(out.data() + start, vectors.data_ptr<float>(), bytes);  // x86 and aarch64 are little-endian
  return out;
}

int run_embed(const EmbedArgs& args) {
  const auto device = train::select_device(args.device);
  train::SentenceEmbedder embedder(args.checkpoint, device);
  const auto sentences = data::read_lines(std::cin);
  const auto vectors = embedder.embed(sentences, args.batch_size).contiguous();
  const bool npy = args.output.size() > 4 && args.output.compare(args.output.size() - 4, 4, ".npy") == 0;
  std::cerr << fmt::format("embed: {} sentences -> [{}, {}] ({} pooling{}, at most {} tokens){}\n", sentences.size(),
                           vectors.size(0), vectors.size(1),
                           embedder.pooling() == train::SentencePooling::kMean  ? "mean"
                           : embedder.pooling() == train::SentencePooling::kCls ? "cls"
                                                                                : "max",
                           embedder.normalize() ? ", normalized" : "", embedder.max_length(),
                           args.output.empty() ? "" : " -> " + args.output);
  if (args.output.empty()) {
    std::cout << to_jsonl(sentences, vectors);
  } else {
    common::write_file_atomically(args.output, npy ? to_npy(vectors) : to_jsonl(sentences, vectors), "embeddings");
  }
  return 0;
}

}  // namespace

Command add_embed(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  auto* embed = app.add_subcommand("embed",
                                   "sentence embeddings of stdin's lines with a sentence-transformers "
                                   "BERT folder (e.g. all-MiniLM-L6-v2)");
  embed
      ->add_option("--checkpoint", args->checkpoint,
                   "a Hugging Face / sentence-transformers folder: config.json, model.safetensors, tokenizer.json "
                   "(and modules.json, 1_Pooling/)")
      ->required()
      ->check(CLI::ExistingDirectory);
  embed->add_option("--output,-o", args->output, "FILE.npy (float32 [N, dim]) or FILE.jsonl; default: JSONL on stdout");
  embed->add_option("--batch-size", args->batch_size, "sentences a forward pass")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  add_device_option(embed, args->device);
  return {embed, [args] { return run_embed(*args); }};
}

}  // namespace torchzoo::cli
