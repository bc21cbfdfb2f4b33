#include "torchzoo/layers/detail/annotated_layer_norm.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>

#include <cmath>
#include <vector>

#include "torchzoo/layers/detail/vectorize.h"

namespace torchzoo::detail {

namespace {

// Partial sums run in kLanes independent accumulators, which the compiler maps onto vector
// registers (a single accumulator would be a serial chain it may not reorder).
constexpr int kLanes = 16;

inline float lanes_sum(const float* lanes) {
  float total = 0.0f;
  for (int k = 0; k < kLanes; ++k) total += lanes[k];
  return total;
}

// sum(x[j]) over a row of n.
inline float row_sum(const float* x, int n) {
  float lanes[kLanes] = {};
  int j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int k = 0; k < kLanes; ++k) lanes[k] += x[j + k];
  }
  float total = lanes_sum(lanes);
  for (; j < n; ++j) total += x[j];
  return total;
}

// sum((x[j] - mean)^2) over a row of n.
inline float row_squares(const float* x, float mean, int n) {
  float lanes[kLanes] = {};
  int j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const float d = x[j + k] - mean;
      lanes[k] += d * d;
    }
  }
  float total = lanes_sum(lanes);
  for (; j < n; ++j) total += (x[j] - mean) * (x[j] - mean);
  return total;
}

// sum(g[j] * a[j]) over a row of n.
inline float row_products(const float* g, const float* a, int n) {
  float lanes[kLanes] = {};
  int j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int k = 0; k < kLanes; ++k) lanes[k] += g[j + k] * a[j + k];
  }
  float total = lanes_sum(lanes);
  for (; j < n; ++j) total += g[j] * a[j];
  return total;
}

// sum(g[j] * a[j] * (x[j] - mean)) over a row of n.
inline float row_centered_products(const float* g, const float* a, const float* x, float mean, int n) {
  float lanes[kLanes] = {};
  int j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int k = 0; k < kLanes; ++k) lanes[k] += g[j + k] * a[j + k] * (x[j + k] - mean);
  }
  float total = lanes_sum(lanes);
  for (; j < n; ++j) total += g[j] * a[j] * (x[j] - mean);
  return total;
}

// Rows [0, rows) of x [rows, n]: y, and each row's mean and (unbiased) std.
TORCHZOO_AVX2_CLONE void norm_rows(const float* __restrict x, const float* __restrict a, const float* __restrict b,
                                   float* __restrict y, float* __restrict means, float* __restrict stds,
                                   int64_t rows, int n, float eps) {
  for (int64_t row = 0; row < rows; ++row) {
    const float* xr = x + row * n;
    float* yr = y + row * n;
    const float mean = row_sum(xr, n) / static_cast<float>(n);
    const float std = std::sqrt(row_squares(xr, mean, n) / static_cast<float>(n - 1));
    const float r = 1.0f / (std + eps);
    for (int j = 0; j < n; ++j) yr[j] = a[j] * ((xr[j] - mean) * r) + b[j];
    means[row] = mean;
    stds[row] = std;
  }
}

// The backward of rows [0, rows): dx, and the rows' shares of da and db added to da_part, db_part.
TORCHZOO_AVX2_CLONE void norm_rows_backward(const float* __restrict grad, const float* __restrict x,
                                            const float* __restrict a, const float* __restrict means,
                                            const float* __restrict stds, float* __restrict dx,
                                            float* __restrict da_part, float* __restrict db_part, int64_t rows, int n,
                                            float eps) {
  for (int64_t row = 0; row < rows; ++row) {
    const float* g = grad + row * n;
    const float* xr = x + row * n;
    float* dxr = dx + row * n;
    const float mean = means[row], std = stds[row];
    const float r = 1.0f / (std + eps);
    // Two single-accumulator passes over the row (it is in L1): with both sums in one loop, GCC
    // vectorised across rows through the stack and the backward ran 3x slower.
    const float sum_gh = row_products(g, a, n);
    const float sum_ghd = row_centered_products(g, a, xr, mean, n);
    const float mean_gh = sum_gh / static_cast<float>(n);
    // The std's share; a constant row (std 0, every d 0) has none.
    const float k_std = std > 0.0f ? r * r / (std * static_cast<float>(n - 1)) * sum_ghd : 0.0f;
    for (int j = 0; j < n; ++j) {
      const float d = xr[j] - mean;
      dxr[j] = r * (g[j] * a[j] - mean_gh) - k_std * d;
      da_part[j] += g[j] * d * r;
      db_part[j] += g[j];
    }
  }
}

// Rows per task of at::parallel_for.
int64_t row_grain(int64_t n) { return std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(n, 1)); }

class AnnotatedLayerNormFunction : public torch::autograd::Function<AnnotatedLayerNormFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& a,
                               const torch::Tensor& b, double eps) {
    RECORD_FUNCTION("torchzoo::annotated_layer_norm", std::vector<c10::IValue>({x}));
    const int64_t n = x.size(-1);
    const int64_t rows = x.numel() / std::max<int64_t>(n, 1);
    const auto input = x.contiguous();
    const auto gain = a.contiguous(), bias = b.contiguous();
    auto y = torch::empty_like(input, at::MemoryFormat::Contiguous);
    auto means = torch::empty({rows}, input.options());
    auto stds = torch::empty({rows}, input.options());
    const float* xp = input.const_data_ptr<float>();
    float* yp = y.mutable_data_ptr<float>();
    float* mp = means.mutable_data_ptr<float>();
    float* sp = stds.mutable_data_ptr<float>();
    const float* ap = gain.const_data_ptr<float>();
    const float* bp = bias.const_data_ptr<float>();
    const auto features = static_cast<int>(n);
    at::parallel_for(0, rows, row_grain(n), [&](int64_t begin, int64_t end) {
      norm_rows(xp + begin * n, ap, bp, yp + begin * n, mp + begin, sp + begin, end - begin, features,
                static_cast<float>(eps));
    });
    ctx->save_for_backward({input, gain, means, stds});
    ctx->saved_data["eps"] = eps;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& input = saved[0];
    const auto& gain = saved[1];
    const auto& means = saved[2];
    const auto& stds = saved[3];
    const auto eps = static_cast<float>(ctx->saved_data["eps"].toDouble());
    const int64_t n = input.size(-1);
    const int64_t rows = means.size(0);
    const auto grad = grads[0].contiguous();
    auto dx = torch::empty_like(input, at::MemoryFormat::Contiguous);
    // Each thread adds its rows' shares of da and db into a slot of its own; the slots are summed after.
    const int64_t slots = at::get_num_threads();
    auto parts = torch::zeros({slots, 2, n}, input.options());
    const float* gp = grad.const_data_ptr<float>();
    const float* xp = input.const_data_ptr<float>();
    const float* ap = gain.const_data_ptr<float>();
    const float* mp = means.const_data_ptr<float>();
    const float* sp = stds.const_data_ptr<float>();
    float* dxp = dx.mutable_data_ptr<float>();
    float* pp = parts.mutable_data_ptr<float>();
    const auto features = static_cast<int>(n);
    at::parallel_for(0, rows, row_grain(n), [&](int64_t begin, int64_t end) {
      float* part = pp + at::get_thread_num() * 2 * n;
      norm_rows_backward(gp + begin * n, xp + begin * n, ap, mp + begin, sp + begin, dxp + begin * n, part, part + n,
                         end - begin, features, eps);
    });
    const auto sums = parts.sum(0);  // [2, n]
    return {dx, sums[0], sums[1], torch::Tensor()};
  }
};

}  // namespace

bool annotated_layer_norm_fusable(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b) {
  const auto is_cpu_float = [](const torch::Tensor& t) {
    return t.defined() && t.device().is_cpu() && t.layout() == torch::kStrided && t.scalar_type() == torch::kFloat;
  };
  return is_cpu_float(x) && is_cpu_float(a) && is_cpu_float(b) && x.dim() >= 1 && x.size(-1) > 1 &&
         x.size(-1) <= (int64_t{1} << 30) && a.dim() == 1 && b.dim() == 1 && a.size(0) == x.size(-1) &&
         b.size(0) == x.size(-1);
}

torch::Tensor annotated_layer_norm(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& b, double eps) {
  return AnnotatedLayerNormFunction::apply(x, a, b, eps);
}

}  // namespace torchzoo::detail
