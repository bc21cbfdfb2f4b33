#pragma once
// Attention maps from a forward pass, for any torchzoo model: while an
// AttentionRecorder lives, every attention module of the model (the annotated
// Transformer's MultiHeadedAttention, the ViT's Attention) keeps the weights of
// its last forward -- which forces the unfused math path, so record only when
// you look -- and maps() returns them by the module's name, which is its
// parameters' prefix in the state_dict:
//
//   encoder.layers.{i}.self_attn, decoder.layers.{i}.self_attn,
//   decoder.layers.{i}.src_attn (cross-attention)      EncoderDecoder
//   encoder.layers.{i}.self_attn                         TransformerEncoderClassifier
//   decoder.layers.{i}.self_attn                         DecoderOnlyLM
//   blocks.{i}.attn                                      VisionTransformer
//
// Each map is [B, h, T_q, T_k]: rows are the attending (query) positions, each
// a distribution over the key positions. Destroying the recorder restores the
// modules' settings.
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace torchzoo::models {

/// Keeps the attention maps of a model's forward passes while it lives, by module name (the unfused
/// math path runs meanwhile).
///
/// Example:
///   models::AttentionRecorder recorder(*model);
///   model->forward(src, tgt, src_mask, tgt_mask);
///   auto cross = recorder.map("decoder.layers.5.src_attn");  // [B, 8, T_tgt, T_src]
class AttentionRecorder {
 public:
  /// Turns on keeping weights in every attention module of `model`; throws std::invalid_argument
  /// when it has none.
  explicit AttentionRecorder(torch::nn::Module& model);
  ~AttentionRecorder();
  AttentionRecorder(const AttentionRecorder&) = delete;
  AttentionRecorder& operator=(const AttentionRecorder&) = delete;

  /// The attention modules' names, in the model's order.
  std::vector<std::string> names() const;
  /// (name, weights [B, h, T_q, T_k]) of each module that ran since the recorder was made, in the
  /// model's order; detached.
  std::vector<std::pair<std::string, torch::Tensor>> maps() const;
  /// The weights of the module `name`; throws naming the modules when there is none such or it did not run.
  torch::Tensor map(const std::string& name) const;

 private:
  struct Entry;
  std::vector<Entry> entries_;
};

/// The attention rollout of Abnar & Zuidema (2020), "Quantifying Attention Flow in Transformers":
/// each layer's weights [B, h, N, N] averaged over heads, the residual path added as the identity
/// (0.5 A + 0.5 I, rows renormalised), and the layers multiplied from the first to the last.
/// -> [B, N, N]: row i is how much each input position reaches output position i.
torch::Tensor attention_rollout(const std::vector<torch::Tensor>& layer_maps);

}  // namespace torchzoo::models
