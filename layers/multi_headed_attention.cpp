#include "torchzoo/layers/multi_headed_attention.h"

#include <c10/core/GradMode.h>

#include <algorithm>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/dot_product_attention.h"

namespace torchzoo::layers {

MultiHeadedAttentionImpl::MultiHeadedAttentionImpl(MultiHeadedAttentionOptions options) : options(std::move(options)) {
  reset();
}

void MultiHeadedAttentionImpl::reset() {
  const auto d_model = options.d_model();
  const auto h = options.num_heads();
  TORCHZOO_CHECK(d_model > 0 && h > 0, "MultiHeadedAttention: d_model and num_heads must be positive, got {} and {}",
                 d_model, h);
  TORCHZOO_CHECK(d_model % h == 0, "MultiHeadedAttention: d_model ({}) must be divisible by num_heads ({})", d_model,
                 h);
  TORCHZOO_CHECK(options.dropout() >= 0 && options.dropout() < 1,
                 "MultiHeadedAttention: dropout must be in [0, 1), got {}", options.dropout());
  linears = register_module("linears", torch::nn::ModuleList());
  for (int i = 0; i < 4; ++i) {
    linears->push_back(torch::nn::Linear(torch::nn::LinearOptions(d_model, d_model).bias(options.bias())));
  }
}

void MultiHeadedAttentionImpl::reset_parameters() {
  for (size_t i = 0; i < linears->size(); ++i) {
    linear(i)->reset_parameters();
  }
}

void MultiHeadedAttentionImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::MultiHeadedAttention(d_model={}, num_heads={}, dropout={}, fused={})",
                        options.d_model(), options.num_heads(), options.dropout(), options.fused());
}

torch::nn::Linear MultiHeadedAttentionImpl::linear(size_t index) const {
  return linears->ptr<torch::nn::LinearImpl>(index);
}

torch::Tensor MultiHeadedAttentionImpl::split_heads(const torch::Tensor& x) const {
  return x.view({x.size(0), x.size(1), options.num_heads(), d_k()}).transpose(1, 2);  // [B, h, T, d_k]
}

void MultiHeadedAttentionImpl::check_inputs(const torch::Tensor& query, const torch::Tensor& key,
                                            const torch::Tensor& value, const torch::Tensor& mask) const {
  const auto d_model = options.d_model();
  for (const auto& [name, t] : {std::pair{"query", &query}, std::pair{"key", &key}, std::pair{"value", &value}}) {
    TORCHZOO_CHECK(t->dim() == 3 && t->size(2) == d_model,
                   "MultiHeadedAttention: expected {} of shape [B, T, {}], got {}", name, d_model,
                   detail::shape_str(t->sizes()));
  }
  TORCHZOO_CHECK(key.size(0) == query.size(0) && value.size(0) == query.size(0) && key.size(1) == value.size(1),
                 "MultiHeadedAttention: query {}, key {} and value {} must share the batch size, and key and value "
                 "the length",
                 detail::shape_str(query.sizes()), detail::shape_str(key.sizes()), detail::shape_str(value.sizes()));
  check_mask(mask, query.size(0), query.size(1), key.size(1));
}

void MultiHeadedAttentionImpl::check_mask(const torch::Tensor& mask, int64_t batch, int64_t t_q, int64_t t_k) const {
  if (!mask.defined()) {
    return;
  }
  TORCHZOO_CHECK(mask.scalar_type() == torch::kBool,
                 "MultiHeadedAttention: expected a bool mask (true = may attend), got {}",
                 c10::toString(mask.scalar_type()));
  TORCHZOO_CHECK(mask.dim() == 3 && (mask.size(0) == batch || mask.size(0) == 1) &&
                     (mask.size(1) == t_q || mask.size(1) == 1) && mask.size(2) == t_k,
                 "MultiHeadedAttention: expected mask of shape [{} or 1, {} or 1, {}], got {}", batch, t_q, t_k,
                 detail::shape_str(mask.sizes()));
}

torch::Tensor MultiHeadedAttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& key,
                                                const torch::Tensor& value, const torch::Tensor& mask) {
  check_inputs(query, key, value, mask);
  // Projected in the reference's order (query, key, value): the order in which autograd sums their
  // gradients into a shared input, and so the last bits of a self-attention's input gradient.
  auto q = split_heads(project(0, query));  // [B, h, T_q, d_k]
  auto key_value = project_key_value(key, value);
  return attention(q, key_value, mask);
}

KeyValue MultiHeadedAttentionImpl::project_key_value(const torch::Tensor& key, const torch::Tensor& value) {
  const auto d_model = options.d_model();
  TORCHZOO_CHECK(key.dim() == 3 && key.size(2) == d_model && value.sizes() == key.sizes(),
                 "MultiHeadedAttention: expected key and value of shape [B, T, {}], got {} and {}", d_model,
                 detail::shape_str(key.sizes()), detail::shape_str(value.sizes()));
  return {split_heads(project(1, key)),     // [B, h, T_k, d_k]
          split_heads(project(2, value))};  // [B, h, T_k, d_k]
}

torch::Tensor MultiHeadedAttentionImpl::attend(const torch::Tensor& query, const KeyValue& key_value,
                                               const torch::Tensor& mask) {
  const auto d_model = options.d_model();
  TORCHZOO_CHECK(query.dim() == 3 && query.size(2) == d_model,
                 "MultiHeadedAttention: expected query of shape [B, T, {}], got {}", d_model,
                 detail::shape_str(query.sizes()));
  const auto batch = query.size(0);
  TORCHZOO_CHECK(
      key_value.defined() && key_value.key.dim() == 4 &&
          key_value.key.sizes() == torch::IntArrayRef({batch, options.num_heads(), key_value.length(), d_k()}) &&
          key_value.value.sizes() == key_value.key.sizes(),
      "MultiHeadedAttention: expected projected key and value of shape [{}, {}, T_k, {}], got {} and {}", batch,
      options.num_heads(), d_k(), key_value.defined() ? detail::shape_str(key_value.key.sizes()) : "undefined",
      key_value.value.defined() ? detail::shape_str(key_value.value.sizes()) : "undefined");
  check_mask(mask, batch, query.size(1), key_value.length());
  return attention(split_heads(project(0, query)), key_value, mask);  // q: [B, h, T_q, d_k]
}

torch::Tensor MultiHeadedAttentionImpl::attention(const torch::Tensor& q, const KeyValue& key_value,
                                                  const torch::Tensor& mask) {
  const auto batch = q.size(0);
  const auto head_mask = mask.defined() ? mask.unsqueeze(1) : torch::Tensor();  // [B, 1, T_q or 1, T_k]

  DotProductAttentionArgs args;
  args.mask = head_mask;
  args.dropout = options.dropout();
  args.training = is_training();
  args.fused = options.fused();
  args.weights = options.keep_attention_weights() ? &attention_weights_ : nullptr;
  auto x = dot_product_attention(q, key_value.key, key_value.value, args);  // [B, h, T_q, d_k]
  // [B, T_q, d_model]; at one query position [B, h, 1, d_k] is that layout already
  x = q.size(2) == 1 && x.is_contiguous() ? x.view({batch, 1, options.d_model()})
                                          : x.transpose(1, 2).contiguous().view({batch, -1, options.d_model()});
  return project(3, x);
}

torch::Tensor MultiHeadedAttentionImpl::attend_self(const torch::Tensor& x, KeyValue& cache,
                                                  const torch::Tensor& mask) {
  const auto d_model = options.d_model();
  TORCHZOO_CHECK(x.dim() == 3 && x.size(2) == d_model, "MultiHeadedAttention: expected x of shape [B, T, {}], got {}",
                 d_model, detail::shape_str(x.sizes()));
  torch::Tensor q;
  if (c10::GradMode::is_enabled()) {  // autograd follows the parameters themselves
    q = split_heads(project(0, x));  // [B, h, T_new, d_k]
    cache.extend(project_key_value(x, x));
  } else {
    auto& fused = fused_projection();
    const auto qkv = fused.packed(x, fused.weight, fused.bias)
                         .view({x.size(0), x.size(1), 3, options.num_heads(), d_k()})
                         .permute({2, 0, 3, 1, 4});  // [3, B, h, T_new, d_k]: q, k and v heads
    q = qkv[0];
    cache.extend({qkv[1], qkv[2]});
  }
  check_mask(mask, x.size(0), x.size(1), cache.length());
  return attention(q, cache, mask);
}

MultiHeadedAttentionImpl::FusedProjection& MultiHeadedAttentionImpl::fused_projection() {
  auto& fused = fused_projection_;
  bool current = fused.weight.defined();
  for (size_t i = 0; i < 3 && current; ++i) {
    current = fused.sources[i].matches(linear(i)->weight) && fused.sources[3 + i].matches(linear(i)->bias);
  }
  if (!current) {
    torch::NoGradGuard no_grad;
    fused.weight = torch::cat({linear(0)->weight, linear(1)->weight, linear(2)->weight});  // [3 d, d]
    fused.bias = options.bias() ? torch::cat({linear(0)->bias, linear(1)->bias, linear(2)->bias})
                                : torch::Tensor();  // [3 d]
    for (size_t i = 0; i < 3; ++i) {
      fused.sources[i] = detail::TensorStamp(linear(i)->weight);
      fused.sources[3 + i] = detail::TensorStamp(linear(i)->bias);
    }
  }
  return fused;
}

void MultiHeadedAttentionImpl::set_int8_inference(bool on) {
  for (auto& packed : packed_) packed.set_int8(on);
  fused_projection_.packed.set_int8(on);
}

torch::Tensor MultiHeadedAttentionImpl::project(size_t index, const torch::Tensor& x) {
  const auto& layer = *linear(index);
  return packed_[index](x, layer.weight, layer.bias);
}

KeyValue KeyValue::append(const KeyValue& next) const {
  if (!defined()) {
    return next;
  }
  return {torch::cat({key, next.key}, 2),       // [B, h, T + T_next, d_k]
          torch::cat({value, next.value}, 2)};  // [B, h, T + T_next, d_k]
}

void KeyValue::extend(const KeyValue& next) {
  TORCHZOO_CHECK(next.defined() && next.key.dim() == 4 && next.value.sizes() == next.key.sizes(),
                 "KeyValue: expected keys and values of shape [B, h, T, d_k] to extend with, got {} and {}",
                 next.defined() ? detail::shape_str(next.key.sizes()) : "undefined",
                 next.value.defined() ? detail::shape_str(next.value.sizes()) : "undefined");
  const int64_t length = this->length();
  if (defined()) {
    TORCHZOO_CHECK(next.key.size(0) == key.size(0) && next.key.size(1) == key.size(1) &&
                       next.key.size(3) == key.size(3),
                   "KeyValue: cannot extend keys and values of shape {} with {}", detail::shape_str(key.sizes()),
                   detail::shape_str(next.key.sizes()));
  }
  const int64_t needed = length + next.length();
  const bool in_place = key_room_.defined() && *written_ == length && key_room_.size(2) >= needed;
  if (!in_place) {
    constexpr int64_t kMinimumRoom = 16;
    auto sizes = next.key.sizes().vec();
    sizes[2] = std::max({needed, 2 * length, kMinimumRoom});
    key_room_ = torch::empty(sizes, next.key.options());      // [B, h, capacity, d_k]
    value_room_ = torch::empty(sizes, next.value.options());  // [B, h, capacity, d_k]
    if (length > 0) {
      key_room_.narrow(2, 0, length).copy_(key);
      value_room_.narrow(2, 0, length).copy_(value);
    }
    written_ = std::make_shared<int64_t>(length);
  }
  key_room_.narrow(2, length, next.length()).copy_(next.key);
  value_room_.narrow(2, length, next.length()).copy_(next.value);
  *written_ = needed;
  // Views of the first `needed` positions, made directly (a decoding step's ops are small, their
  // dispatch is not: narrow would go through slice and as_strided).
  auto sizes = key_room_.sizes().vec();
  sizes[2] = needed;
  key = key_room_.as_strided(sizes, key_room_.strides());        // [B, h, T + T_next, d_k]
  value = value_room_.as_strided(sizes, value_room_.strides());  // [B, h, T + T_next, d_k]
}

KeyValue KeyValue::index_select(const torch::Tensor& rows) const {
  if (!defined()) {
    return {};
  }
  if (!key_room_.defined()) {
    return {key.index_select(0, rows), value.index_select(0, rows)};  // [B', h, T, d_k]
  }
  KeyValue out;
  out.key_room_ = key_room_.index_select(0, rows);  // [B', h, capacity, d_k]
  out.value_room_ = value_room_.index_select(0, rows);
  out.written_ = std::make_shared<int64_t>(length());
  out.key = out.key_room_.narrow(2, 0, length());
  out.value = out.value_room_.narrow(2, 0, length());
  return out;
}

}  // namespace torchzoo::layers
