#pragma once
// Reading the `model` keys that several families share.
#include "torchzoo/common/format.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/configs/model_size.h"
#include "torchzoo/layers/activation.h"

namespace torchzoo::configs {

/// The keys every Transformer stack shares, read into a model's Options (its
/// layers::TransformerStackOptions fields but norm_first, which not every family reads, plus
/// max_len), each defaulting to the Options' own value; then checks that num_heads divides d_model.
template <class ModelOptions>
void read_transformer_stack(const Section& s, ModelOptions& o) {
  o.num_layers(s.get_positive<int64_t>("num_layers", o.num_layers()))
      .d_model(s.get_positive<int64_t>("d_model", o.d_model()))
      .d_ff(s.get_positive<int64_t>("d_ff", o.d_ff()))
      .num_heads(s.get_positive<int64_t>("num_heads", o.num_heads()))
      .dropout(s.get_in_range("dropout", o.dropout(), 0.0, 0.99))
      .attention_dropout(s.get_in_range("attention_dropout", o.attention_dropout(), 0.0, 0.99))
      .activation(layers::activation_from_string(s.get_choice("activation", layers::to_string(o.activation()), {"relu", "gelu"})))
      .layer_norm_eps(s.get_positive<double>("layer_norm_eps", o.layer_norm_eps()))
      // annotated: a * (x - mean) / (std + eps) + b (the reference); layer_norm: torch's (CTranslate2's,
      // Hugging Face's), eps inside the square root of the biased variance.
      .use_torch_layer_norm(s.get_choice("norm", o.use_torch_layer_norm() ? "layer_norm" : "annotated",
                                         {"annotated", "layer_norm"}) == "layer_norm")
      .fused_attention(s.get<bool>("fused_attention", o.fused_attention()))
      .max_len(s.get_positive<int64_t>("max_len", o.max_len()));
  if (o.d_model() % o.num_heads() != 0) {
    s.fail("num_heads", fmt::format("must divide d_model={}, got {}", o.d_model(), o.num_heads()));
  }
}

/// check_model_fits for a model of Transformer layers read by read_transformer_stack:
/// `embeddings` values (embeddings, positions, heads) plus the layers, with `attentions`
/// attention blocks per layer; the message names d_model, d_ff, num_layers, the
/// `vocab_keys` and max_len.
template <class ModelOptions>
void check_stack_fits(const Section& s, const ModelOptions& o, double embeddings, double attentions,
                      const SizeKeys& vocab_keys) {
  const auto d = static_cast<double>(o.d_model());
  const auto d_ff = static_cast<double>(o.d_ff());
  const auto layers = static_cast<double>(o.num_layers());
  SizeKeys keys = {{"d_model", d}, {"d_ff", d_ff}, {"num_layers", layers}};
  keys.insert(keys.end(), vocab_keys.begin(), vocab_keys.end());
  keys.emplace_back("max_len", static_cast<double>(o.max_len()));
  check_model_fits(s, embeddings + transformer_layers_size(layers, d, d_ff, attentions), keys);
}

}  // namespace torchzoo::configs
