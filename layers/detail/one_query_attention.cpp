#include "torchzoo/layers/detail/one_query_attention.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "torchzoo/layers/detail/vectorize.h"

namespace torchzoo::detail {
namespace {

// scores[t] = q . k_t * scale for the T keys of one (row, head); keys `key_stride` floats apart.
TORCHZOO_AVX2_CLONE void query_key_scores(const float* __restrict q, const float* __restrict k, int64_t key_stride,
                                          int d, int keys, float scale, float* __restrict scores) {
  for (int t = 0; t < keys; ++t) scores[t] = dot_product(q, k + t * key_stride, d) * scale;
}

// out = sum_t weights[t] v_t over the T values of one (row, head).
TORCHZOO_AVX2_CLONE void weighted_values(const float* __restrict weights, const float* __restrict v,
                                         int64_t value_stride, int d, int values, float* __restrict out) {
  for (int i = 0; i < d; ++i) out[i] = 0.0f;
  for (int t = 0; t < values; ++t) {
    const float* value = v + t * value_stride;
    const float w = weights[t];
    for (int i = 0; i < d; ++i) out[i] += w * value[i];
  }
}

}  // namespace

bool one_query_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& mask) {
  const auto is_float_cpu = [](const torch::Tensor& t) {
    return t.dim() == 4 && t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.stride(3) == 1;
  };
  if (c10::GradMode::is_enabled() || !is_float_cpu(q) || !is_float_cpu(k) || !is_float_cpu(v)) return false;
  if (q.size(2) != 1 || k.sizes() != v.sizes() || k.size(0) != q.size(0) || k.size(1) != q.size(1) ||
      k.size(3) != q.size(3) || k.size(2) < 1 || k.size(2) > (int64_t{1} << 30) || q.size(3) > (int64_t{1} << 20)) {
    return false;
  }
  if (!mask.defined()) return true;
  return mask.scalar_type() == torch::kBool && mask.device().is_cpu() && mask.dim() == 4 &&
         (mask.size(0) == q.size(0) || mask.size(0) == 1) && mask.size(1) == 1 && mask.size(2) == 1 &&
         mask.size(3) == k.size(2);
}

torch::Tensor one_query_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  const torch::Tensor& mask) {
  TORCH_CHECK(one_query_attention_applies(q, k, v, mask), "one_query_attention: unsupported inputs q ", q.sizes(),
              ", k ", k.sizes(), ", v ", v.sizes());
  RECORD_FUNCTION("torchzoo::one_query_attention", std::vector<c10::IValue>({q, k}));  // named in profiles
  const int64_t batch = q.size(0), heads = q.size(1);
  const int keys = static_cast<int>(k.size(2)), d = static_cast<int>(q.size(3));
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  auto out = torch::empty({batch, heads, 1, d}, q.options());  // [B, h, 1, d_k]
  const auto mask_rows = mask.defined() ? mask.contiguous().view({mask.size(0), keys}) : torch::Tensor();
  const bool* mask_data = mask_rows.defined() ? mask_rows.data_ptr<bool>() : nullptr;
  const float* q_data = q.data_ptr<float>();
  const float* k_data = k.data_ptr<float>();
  const float* v_data = v.data_ptr<float>();
  float* out_data = out.data_ptr<float>();
  // Tasks of at least 16k multiply-adds: a step's attention over a short cache runs in the calling
  // thread, where handing it out would cost more than computing it.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 14) / (int64_t{2} * keys * d));
  at::parallel_for(0, batch * heads, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> weights(static_cast<size_t>(keys));
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / heads, h = bh % heads;
      query_key_scores(q_data + b * q.stride(0) + h * q.stride(1), k_data + b * k.stride(0) + h * k.stride(1),
                       k.stride(2), d, keys, scale, weights.data());
      if (mask_data != nullptr) {
        const bool* allowed = mask_data + (mask_rows.size(0) == 1 ? 0 : b) * keys;
        for (int t = 0; t < keys; ++t) weights[t] = allowed[t] ? weights[t] : -1e9f;
      }
      const float top = *std::max_element(weights.begin(), weights.end());
      float total = 0.0f;
      for (auto& w : weights) total += (w = std::exp(w - top));
      for (auto& w : weights) w /= total;
      weighted_values(weights.data(), v_data + b * v.stride(0) + h * v.stride(1), v.stride(2), d, keys,
                      out_data + bh * d);
    }
  });
  return out;
}

}  // namespace torchzoo::detail
