#include "torchzoo/train/sentence_embedder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "torchzoo/common/check.h"
#include "torchzoo/train/export/hf_bert.h"

namespace torchzoo::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& path) {
  std::ifstream in(path);
  TORCHZOO_CHECK(in.good(), "cannot open {}", path.string());
  try {
    return json::parse(in);
  } catch (const json::parse_error& error) {
    TORCHZOO_CHECK(false, "{}: not JSON: {}", path.string(), error.what());
  }
  return {};
}

}  // namespace

SentenceEmbedder::SentenceEmbedder(const std::string& folder, torch::Device device)
    : tokenizer_(data::WordPieceTokenizer::from_file((fs::path(folder) / "tokenizer.json").string())), device_(device) {
  const fs::path root(folder);
  bert_ = hf_bert_from_pretrained(folder);
  bert_->to(device_);
  if (const auto settings = root / "sentence_bert_config.json"; fs::exists(settings)) {
    const auto config = read_json(settings);
    if (config.contains("max_seq_length") && !config.at("max_seq_length").is_null()) {
      const auto& length = config.at("max_seq_length");
      TORCHZOO_CHECK(length.is_number_integer() && length.get<int64_t>() >= 3 &&
                         length.get<int64_t>() <= bert_->options.max_position_embeddings(),
                     "{}: max_seq_length: expected an integer in [3, {}], got {}", settings.string(),
                     bert_->options.max_position_embeddings(), length.dump());
      tokenizer_.set_max_length(length.get<int64_t>());
    }
  }
  if (tokenizer_.max_length() == 0 || tokenizer_.max_length() > bert_->options.max_position_embeddings()) {
    tokenizer_.set_max_length(bert_->options.max_position_embeddings());
  }
  // modules.json: Transformer, then Pooling (its folder's config.json) and maybe Normalize.
  if (const auto modules_file = root / "modules.json"; fs::exists(modules_file)) {
    const auto modules = read_json(modules_file);
    TORCHZOO_CHECK(modules.is_array(), "{}: expected a list of modules", modules_file.string());
    for (const auto& module : modules) {
      const auto type = module.value("type", std::string());
      if (type.find("Normalize") != std::string::npos) normalize_ = true;
      if (type.find("Pooling") == std::string::npos) continue;
      const auto pooling_file = root / module.value("path", std::string()) / "config.json";
      const auto pooling = read_json(pooling_file);
      const bool mean = pooling.value("pooling_mode_mean_tokens", false);
      const bool cls = pooling.value("pooling_mode_cls_token", false);
      const bool max = pooling.value("pooling_mode_max_tokens", false);
      TORCHZOO_CHECK(mean + cls + max == 1 && !pooling.value("pooling_mode_mean_sqrt_len_tokens", false),
                     "{}: expected exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token and "
                     "pooling_mode_max_tokens",
                     pooling_file.string());
      pooling_ = mean ? SentencePooling::kMean : cls ? SentencePooling::kCls : SentencePooling::kMax;
    }
  }
}

torch::Tensor SentenceEmbedder::embed(const std::vector<std::string>& sentences, int64_t batch_size) {
  TORCHZOO_CHECK(batch_size > 0, "SentenceEmbedder: batch_size must be positive, got {}", batch_size);
  torch::InferenceMode inference;
  bert_->eval();
  std::vector<std::vector<int64_t>> ids(sentences.size());
  for (size_t i = 0; i < sentences.size(); ++i) ids[i] = tokenizer_.encode(sentences[i]).ids;
  // Longest first, so that a batch pads little.
  std::vector<size_t> order(sentences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() > ids[b].size(); });
  auto out = torch::empty({static_cast<int64_t>(sentences.size()), dimension()});
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
    const auto end = std::min(order.size(), start + static_cast<size_t>(batch_size));
    const auto length = static_cast<int64_t>(ids[order[start]].size());
    const auto rows = static_cast<int64_t>(end - start);
    auto input = torch::full({rows, length}, tokenizer_.pad_id(), torch::kLong);
    auto mask = torch::zeros({rows, length}, torch::kLong);
    for (int64_t r = 0; r < rows; ++r) {
      const auto& row = ids[order[start + r]];
      const auto n = static_cast<int64_t>(row.size());
      input[r].narrow(0, 0, n).copy_(torch::tensor(row, torch::kLong));
      mask[r].narrow(0, 0, n).fill_(1);
    }
    const auto on_device = mask.to(device_);
    const auto hidden =
        bert_->forward(input.to(device_), torch::Tensor(), on_device).last_hidden_state;  // [rows, T, H]
    torch::Tensor pooled;
    switch (pooling_) {
      case SentencePooling::kMean:
        pooled = models::mean_pool(hidden, on_device, /*normalize=*/false);
        break;
      case SentencePooling::kCls:
        pooled = hidden.select(1, 0);
        break;
      case SentencePooling::kMax:
        pooled = hidden.masked_fill(on_device.unsqueeze(-1).eq(0), -1e9).amax(1);
        break;
    }
    if (normalize_) pooled = pooled / pooled.norm(2, -1, true).clamp_min(1e-12);
    pooled = pooled.to(torch::kCPU, torch::kFloat);
    for (int64_t r = 0; r < rows; ++r) out[static_cast<int64_t>(order[start + r])].copy_(pooled[r]);
  }
  return out;
}

}  // namespace torchzoo::train
