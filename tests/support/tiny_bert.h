#pragma once
// A tiny Hugging Face BERT folder written by tests: config.json, model.safetensors
// (a seeded BertModel under Hugging Face's names, train/export/hf_bert.h) and a
// tokenizer.json whose WordPiece vocabulary is the specials, the letters and
// their "##" continuations -- what bert_classifier configs need, without the
// pretrained package.
#include <filesystem>
#include <fstream>
#include <string>

#include <torch/torch.h>

#include "torchzoo/common/format.h"
#include "torchzoo/models/bert.h"
#include "torchzoo/train/export/hf_bert.h"
#include "torchzoo/train/export/safetensors.h"

namespace torchzoo::testing {

/// The options of the tiny BERT: vocab 57, hidden 16, 2 layers of 2 heads, 32 positions.
inline models::BertOptions tiny_bert_options() {
  return models::BertOptions()
      .vocab_size(57)
      .hidden_size(16)
      .num_hidden_layers(2)
      .num_attention_heads(2)
      .intermediate_size(32)
      .max_position_embeddings(40);
}

/// Writes the folder (replacing it) and returns its path.
inline std::filesystem::path write_tiny_bert(const std::filesystem::path& dir, uint64_t seed = 1) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto o = tiny_bert_options();
  std::ofstream(dir / "config.json") << fmt::format(
      R"({{"architectures": ["BertModel"], "model_type": "bert", "vocab_size": {}, "hidden_size": {},
  "num_hidden_layers": {}, "num_attention_heads": {}, "intermediate_size": {}, "hidden_act": "gelu",
  "max_position_embeddings": {}, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0}})",
      o.vocab_size(), o.hidden_size(), o.num_hidden_layers(), o.num_attention_heads(), o.intermediate_size(),
      o.max_position_embeddings());
  torch::manual_seed(seed);
  models::BertModel bert(o);
  train::write_safetensors((dir / "model.safetensors").string(), train::bert_state_to_hf(*bert), {{"format", "pt"}});
  std::string vocab = R"("[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4)";
  int id = 5;
  for (char c = 'a'; c <= 'z'; ++c) vocab += fmt::format(R"(, "{}": {})", c, id++);
  for (char c = 'a'; c <= 'z'; ++c) vocab += fmt::format(R"(, "##{}": {})", c, id++);
  std::ofstream(dir / "tokenizer.json") << fmt::format(
      R"({{"version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [{{"id": 0, "content": "[PAD]", "special": true}}, {{"id": 1, "content": "[UNK]", "special": true}},
    {{"id": 2, "content": "[CLS]", "special": true}}, {{"id": 3, "content": "[SEP]", "special": true}},
    {{"id": 4, "content": "[MASK]", "special": true}}],
  "normalizer": {{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null,
    "lowercase": true}},
  "pre_tokenizer": {{"type": "BertPreTokenizer"}},
  "post_processor": {{"type": "TemplateProcessing",
    "single": [{{"SpecialToken": {{"id": "[CLS]", "type_id": 0}}}}, {{"Sequence": {{"id": "A", "type_id": 0}}}},
               {{"SpecialToken": {{"id": "[SEP]", "type_id": 0}}}}],
    "pair": [{{"SpecialToken": {{"id": "[CLS]", "type_id": 0}}}}, {{"Sequence": {{"id": "A", "type_id": 0}}}},
             {{"SpecialToken": {{"id": "[SEP]", "type_id": 0}}}}, {{"Sequence": {{"id": "B", "type_id": 1}}}},
             {{"SpecialToken": {{"id": "[SEP]", "type_id": 1}}}}]}},
  "model": {{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
    "max_input_chars_per_word": 100, "vocab": {{{}}}}}}})",
      vocab);
  return dir;
}

}  // namespace torchzoo::testing
