#include "torchzoo/models/attention_recorder.h"

#include <stdexcept>

#include "torchzoo/common/format.h"
#include "torchzoo/layers/attention.h"
#include "torchzoo/layers/multi_headed_attention.h"

namespace torchzoo::models {

/// One attention module: where its keep flag and weights are, and the flag it had before.
struct AttentionRecorder::Entry {
  std::string name;
  bool* keep = nullptr;
  const torch::Tensor* weights = nullptr;
  bool was_kept = false;
  torch::Tensor before;  ///< the weights it held when recording began (an older forward's)
};

AttentionRecorder::AttentionRecorder(torch::nn::Module& model) {
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    Entry entry;
    entry.name = item.key();
    if (auto* mha = item.value()->as<layers::MultiHeadedAttentionImpl>()) {
      entry.keep = &mha->options.keep_attention_weights();
      entry.weights = &mha->attention_weights();
    } else if (auto* vit = item.value()->as<layers::AttentionImpl>()) {
      entry.keep = &vit->options.keep_attention_weights();
      entry.weights = &vit->attention_weights();
    } else {
      continue;
    }
    entry.was_kept = *entry.keep;
    entry.before = *entry.weights;
    *entry.keep = true;
    entries_.push_back(std::move(entry));
  }
  if (entries_.empty()) {
    throw std::invalid_argument(
        fmt::format("AttentionRecorder: {} has no attention modules (MultiHeadedAttention "
                    "or Attention) to record",
                    model.name()));
  }
}

AttentionRecorder::~AttentionRecorder() {
  for (auto& entry : entries_) *entry.keep = entry.was_kept;
}

std::vector<std::string> AttentionRecorder::names() const {
  std::vector<std::string> names;
  for (const auto& entry : entries_) names.push_back(entry.name);
  return names;
}

std::vector<std::pair<std::string, torch::Tensor>> AttentionRecorder::maps() const {
  std::vector<std::pair<std::string, torch::Tensor>> maps;
  for (const auto& entry : entries_) {
    const auto& weights = *entry.weights;
    if (weights.defined() && !weights.is_same(entry.before)) maps.emplace_back(entry.name, weights.detach());
  }
  return maps;
}

torch::Tensor AttentionRecorder::map(const std::string& name) const {
  for (const auto& [found, weights] : maps()) {
    if (found == name) return weights;
  }
  throw std::invalid_argument(
      fmt::format("AttentionRecorder: no attention map '{}' was recorded; recorded: {} (of "
                  "the modules {})",
                  name, maps().size(), fmt::join(names(), ", ")));
}

torch::Tensor attention_rollout(const std::vector<torch::Tensor>& layer_maps) {
  if (layer_maps.empty()) throw std::invalid_argument("attention_rollout: expected the maps of at least one layer");
  torch::Tensor rollout;
  for (size_t i = 0; i < layer_maps.size(); ++i) {
    const auto& map = layer_maps[i];
    if (map.dim() != 4 || map.size(2) != map.size(3) || (rollout.defined() && map.size(2) != rollout.size(1))) {
      throw std::invalid_argument(
          fmt::format("attention_rollout: layer {}: expected self-attention weights "
                      "[B, h, N, N] of one N, got {}",
                      i, map.sizes()));
    }
    const auto n = map.size(2);
    auto a = map.to(torch::kFloat32).mean(1);                     // [B, N, N]
    a = 0.5 * a + 0.5 * torch::eye(n, a.options()).unsqueeze(0);  // the residual connection
    a = a / a.sum(-1, /*keepdim=*/true);                          // rows sum to 1 again
    rollout = rollout.defined() ? torch::matmul(a, rollout) : a;  // [B, N, N]
  }
  return rollout;
}

}  // namespace torchzoo::models
