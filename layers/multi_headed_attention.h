#pragma once
// Multi-head attention (Vaswani et al. 2017, section 3.2.2; annotated
// Transformer `MultiHeadedAttention`): four linears -- query, key, value and
// output projections, named linears.0 .. linears.3 as in the reference.
//
// Shapes (batch first):
//   query [B, T_q, d_model], key and value [B, T_k, d_model]
//   mask  bool, true = may attend, [B or 1, 1 or T_q, T_k]
//   out   [B, T_q, d_model]
//
// The attention itself is dot_product_attention (layers/dot_product_attention.h):
// a fused path through at::scaled_dot_product_attention, used when `fused` is
// set and the weights are not kept, and a math path that reproduces the
// reference exactly and can keep the attention weights [B, h, T_q, T_k].
//
// Incremental decoding splits forward in two: project_key_value projects keys
// and values once ([B, h, T_k, d_k], a KeyValue), attend attends over such
// projections -- the encoder memory's, computed once per sentence, or a
// decoder's self-attention cache that grows by one position per step
// (layers/decoder_state.h). forward(q, k, v, mask) is
// attend(q, project_key_value(k, v), mask).
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/common.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <array>
#include <memory>

#include "torchzoo/layers/detail/packed_linear.h"

namespace torchzoo::layers {

/// Keys and values after their projections (linears 1 and 2), heads split: [B, h, T_k, d_k] each.
///
/// As a decoding cache it grows in place: extend() writes the next positions into spare room at the
/// end of its buffers, which grow geometrically, so that T steps copy O(T) positions rather than
/// re-concatenating the whole prefix each step (O(T^2)). key and value are then views of the first
/// length() positions. Copies of a KeyValue share the buffers; a copy that another has already
/// extended past reallocates before it writes, so copies never see each other's positions.
class KeyValue {
 public:
  KeyValue() = default;
  KeyValue(torch::Tensor key, torch::Tensor value) : key(std::move(key)), value(std::move(value)) {}

  torch::Tensor key;
  torch::Tensor value;

  bool defined() const { return key.defined(); }
  /// Positions T_k (0 when undefined).
  int64_t length() const { return defined() ? key.size(2) : 0; }
  /// These positions followed by `next`'s (concatenated on the position dimension), as a new KeyValue.
  KeyValue append(const KeyValue& next) const;
  /// Appends `next`'s positions [B, h, T_next, d_k] in place (into the spare room; see above).
  void extend(const KeyValue& next);
  /// Rows `rows` [B'] (int64) of the batch, in that order (the spare room goes with them).
  KeyValue index_select(const torch::Tensor& rows) const;

 private:
  /// [B, h, capacity, d_k] when made by extend(); key and value view their first length() positions.
  torch::Tensor key_room_, value_room_;
  /// Positions of the room written so far, by this KeyValue or a copy of it.
  std::shared_ptr<int64_t> written_;
};

/// Options of MultiHeadedAttention: the width and the number of heads, the rest with the reference's
/// defaults.
struct MultiHeadedAttentionOptions {
  MultiHeadedAttentionOptions(int64_t d_model, int64_t num_heads) : d_model_(d_model), num_heads_(num_heads) {}
  /// Model width; must be divisible by num_heads (d_k = d_model / num_heads).
  TORCH_ARG(int64_t, d_model);
  /// Number of attention heads (the reference's `h`).
  TORCH_ARG(int64_t, num_heads);
  /// Dropout on the attention weights (the reference's default is 0.1).
  TORCH_ARG(double, dropout) = 0.1;
  /// Whether the four projections have a bias.
  TORCH_ARG(bool, bias) = true;
  /// Use at::scaled_dot_product_attention unless the weights are to be kept.
  TORCH_ARG(bool, fused) = true;
  /// Keep the last attention weights (forces the math path); read them with attention_weights().
  TORCH_ARG(bool, keep_attention_weights) = false;
};

/// Multi-head attention with four projections (annotated Transformer `MultiHeadedAttention`, parameters
/// `linears.0` to `linears.3`), used through the module holder MultiHeadedAttention.
///
/// Example:
///   MultiHeadedAttention attn(MultiHeadedAttentionOptions(512, 8).dropout(0.1));
///   auto y = attn(x, x, x, mask);  // self-attention, x: [B, T, 512], mask: [B, 1, T]
class MultiHeadedAttentionImpl : public torch::nn::Cloneable<MultiHeadedAttentionImpl> {
 public:
  explicit MultiHeadedAttentionImpl(MultiHeadedAttentionOptions options);
  void reset() override;
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  /// query [B, T_q, d_model] over key and value [B, T_k, d_model], with mask bool
  /// [B or 1, 1 or T_q, T_k] (true = may attend; undefined: everything) -> [B, T_q, d_model].
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                        const torch::Tensor& mask = {});

  /// key [B, T_k, d_model], value [B, T_k, d_model] -> their projections [B, h, T_k, d_k].
  KeyValue project_key_value(const torch::Tensor& key, const torch::Tensor& value);
  /// Attention of query [B, T_q, d_model] over projected keys and values (from project_key_value,
  /// possibly concatenated or reordered); mask as forward's. -> [B, T_q, d_model]
  torch::Tensor attend(const torch::Tensor& query, const KeyValue& key_value, const torch::Tensor& mask = {});
  /// Self-attention of new positions x [B, T_new, d_model] that follow those cached in `cache`: their
  /// keys and values are appended to it (KeyValue::extend), then x attends over all of them -- the
  /// incremental form of forward(x, x, x) under a subsequent mask. `mask` [B or 1, 1 or T_new,
  /// cache length + T_new] is needed only when T_new > 1. -> [B, T_new, d_model]
  /// Without gradients the three projections run as one matrix product over the concatenated
  /// weights, kept while the parameters are unchanged (same storage, same version counter; so change
  /// parameters with tensor ops, which count versions, and those made under InferenceMode, which
  /// have no counter, only by replacing them).
  torch::Tensor attend_self(const torch::Tensor& x, KeyValue& cache, const torch::Tensor& mask = {});

  /// Inference through int8 linears (detail::PackedLinear::set_int8), or float32 again with false.
  void set_int8_inference(bool on);

  /// Attention weights [B, h, T_q, T_k] of the last forward when keep_attention_weights is set.
  const torch::Tensor& attention_weights() const { return attention_weights_; }

  MultiHeadedAttentionOptions options;
  torch::nn::ModuleList linears;  ///< query, key, value, output projections

 protected:
  FORWARD_HAS_DEFAULT_ARGS({3, torch::nn::AnyValue(torch::Tensor())})

 private:
  int64_t d_k() const { return options.d_model() / options.num_heads(); }
  torch::nn::Linear linear(size_t index) const;
  /// [B, T, d_model] -> [B, h, T, d_k]
  torch::Tensor split_heads(const torch::Tensor& x) const;
  void check_inputs(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                    const torch::Tensor& mask) const;
  void check_mask(const torch::Tensor& mask, int64_t batch, int64_t t_q, int64_t t_k) const;
  /// The attention of projected queries q [B, h, T_q, d_k] over projected keys and values, through the
  /// output projection -> [B, T_q, d_model]; no input checks.
  torch::Tensor attention(const torch::Tensor& q, const KeyValue& key_value, const torch::Tensor& mask);

  /// linears 0-2's weights [3 * d_model, d_model] and biases concatenated, for attend_self without
  /// gradients, with the parameters they were made from.
  struct FusedProjection {
    torch::Tensor weight, bias;
    std::array<detail::TensorStamp, 6> sources;
    detail::PackedLinear packed;
  };
  /// linear(index)(x), through oneDNN's packed weights where detail::PackedLinear applies.
  torch::Tensor project(size_t index, const torch::Tensor& x);
  FusedProjection& fused_projection();

  torch::Tensor attention_weights_;
  FusedProjection fused_projection_;
  std::array<detail::PackedLinear, 4> packed_;
};
TORCH_MODULE(MultiHeadedAttention);

}  // namespace torchzoo::layers
