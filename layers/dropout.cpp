#include "torchzoo/layers/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <ATen/ops/dropout.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "torchzoo/common/check.h"
#include "torchzoo/common/format.h"
#include "torchzoo/layers/detail/vectorize.h"

namespace torchzoo::layers {

namespace {

// Elements per task of at::parallel_for: large enough that a task outweighs its scheduling.
constexpr int64_t kGrain = 1 << 15;

// What one call draws: the key of its mask and the keep threshold on 24-bit uniforms.
struct Mask {
  uint32_t key0 = 0, key1 = 0;
  uint32_t threshold = 0;  // element kept where its 24-bit draw >= threshold (= round(p * 2^24))
  double scale = 1.0;      // 1 / (1 - p)
};

Mask mask_from(uint64_t key, double p) {
  Mask mask;
  mask.key0 = static_cast<uint32_t>(key);
  mask.key1 = static_cast<uint32_t>(key >> 32);
  mask.threshold = static_cast<uint32_t>(std::lround(p * 16777216.0));
  mask.scale = 1.0 / (1.0 - p);
  return mask;
}

// One 64-bit draw from the default CPU generator: what torch::manual_seed and checkpoints govern.
uint64_t draw_key() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

// Where a run of elements starts and how its decisions are keyed: element `first + j` of a run is
// kept where detail::mix32(detail::mix32((first + j) ^ key0) + high) >> 8 >= threshold.
struct Run {
  uint32_t first, key0, high, threshold;
};

// The float kernels are the hot ones: built for AVX2 and for the baseline (detail/vectorize.h).
inline float keep_scale(const Run& run, int j, float scale) {
  const uint32_t h = detail::mix32(detail::mix32((run.first + static_cast<uint32_t>(j)) ^ run.key0) + run.high);
  return (h >> 8) >= run.threshold ? scale : 0.0f;
}

TORCHZOO_AVX2_CLONE void mask_run(const float* __restrict x, const float* __restrict /*residual*/,
                                  float* __restrict out, int n, Run run, float scale) {
  for (int j = 0; j < n; ++j) out[j] = x[j] * keep_scale(run, j, scale);
}

TORCHZOO_AVX2_CLONE void mask_add_run(const float* __restrict x, const float* __restrict residual,
                                      float* __restrict out, int n, Run run, float scale) {
  for (int j = 0; j < n; ++j) out[j] = x[j] * keep_scale(run, j, scale) + residual[j];
}

TORCHZOO_AVX2_CLONE void relu_mask_run(const float* __restrict x, const float* __restrict /*residual*/,
                                       float* __restrict out, int n, Run run, float scale) {
  for (int j = 0; j < n; ++j) out[j] = std::max(x[j], 0.0f) * keep_scale(run, j, scale);
}

// The backward of dropout(relu(x)) from its output: an element passed both exactly where it is
// positive (scale > 0), and then its gradient is scaled.
TORCHZOO_AVX2_CLONE void relu_mask_backward_run(const float* __restrict grad, const float* __restrict out,
                                                float* __restrict dx, int n, float scale) {
  for (int j = 0; j < n; ++j) dx[j] = grad[j] * (out[j] > 0.0f ? scale : 0.0f);
}

// Other dtypes compute in their op-math type (float for bf16 and half).
template <typename T>
void mask_run(const T* x, const T* /*residual*/, T* out, int n, Run run, float scale) {
  for (int j = 0; j < n; ++j) {
    out[j] = static_cast<T>(static_cast<at::opmath_type<T>>(x[j]) * keep_scale(run, j, scale));
  }
}

template <typename T>
void mask_add_run(const T* x, const T* residual, T* out, int n, Run run, float scale) {
  using Acc = at::opmath_type<T>;
  for (int j = 0; j < n; ++j) {
    out[j] = static_cast<T>(static_cast<Acc>(x[j]) * keep_scale(run, j, scale) + static_cast<Acc>(residual[j]));
  }
}

template <typename T>
void relu_mask_run(const T* x, const T* /*residual*/, T* out, int n, Run run, float scale) {
  using Acc = at::opmath_type<T>;
  for (int j = 0; j < n; ++j) {
    out[j] = static_cast<T>(std::max(static_cast<Acc>(x[j]), Acc(0)) * keep_scale(run, j, scale));
  }
}

template <typename T>
void relu_mask_backward_run(const T* grad, const T* out, T* dx, int n, float scale) {
  using Acc = at::opmath_type<T>;
  for (int j = 0; j < n; ++j) {
    dx[j] = static_cast<T>(static_cast<Acc>(grad[j]) * (static_cast<Acc>(out[j]) > Acc(0) ? scale : 0.0f));
  }
}

// What a pass computes from x (and the residual) and the mask.
enum class Pass { kMask, kMaskAdd, kReluMask };

// out = x * keep * scale (+ residual) over the flat tensors, in parallel. Runs stop at multiples
// of 2^32 (where the index's high half, and so `high`, changes) and are at most 2^30 long.
template <typename T>
void apply_mask(Pass pass, const T* x, const T* residual, T* out, int64_t numel, const Mask& mask) {
  constexpr int64_t kMaxRun = int64_t{1} << 30;
  const auto scale = static_cast<float>(mask.scale);
  at::parallel_for(0, numel, kGrain, [&](int64_t begin, int64_t end) {
    while (begin < end) {
      const int64_t run_end = std::min({end, ((begin >> 32) + 1) << 32, begin + kMaxRun});
      const uint32_t high = detail::mix32(static_cast<uint32_t>(begin >> 32) ^ mask.key1);
      const Run run{static_cast<uint32_t>(begin), mask.key0, high, mask.threshold};
      const auto n = static_cast<int>(run_end - begin);
      switch (pass) {
        case Pass::kMask:
          mask_run(x + begin, static_cast<const T*>(nullptr), out + begin, n, run, scale);
          break;
        case Pass::kMaskAdd:
          mask_add_run(x + begin, residual + begin, out + begin, n, run, scale);
          break;
        case Pass::kReluMask:
          relu_mask_run(x + begin, static_cast<const T*>(nullptr), out + begin, n, run, scale);
          break;
      }
      begin = run_end;
    }
  });
}

torch::Tensor masked(const torch::Tensor& x, const torch::Tensor& residual, const Mask& mask, Pass pass) {
  const auto input = x.contiguous();
  const auto add = residual.defined() ? residual.contiguous() : torch::Tensor();
  auto out = torch::empty_like(input, at::MemoryFormat::Contiguous);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "torchzoo_dropout", [&] {
    apply_mask<scalar_t>(pass, input.const_data_ptr<scalar_t>(),
                         add.defined() ? add.const_data_ptr<scalar_t>() : nullptr, out.mutable_data_ptr<scalar_t>(),
                         input.numel(), mask);
  });
  return out;
}

torch::Tensor masked(const torch::Tensor& x, const Mask& mask) { return masked(x, torch::Tensor(), mask, Pass::kMask); }

torch::Tensor relu_mask_backward(const torch::Tensor& grad, const torch::Tensor& out, const Mask& mask) {
  const auto g = grad.contiguous();
  auto dx = torch::empty_like(out, at::MemoryFormat::Contiguous);
  const auto scale = static_cast<float>(mask.scale);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, out.scalar_type(), "torchzoo_relu_dropout_backward", [&] {
    const scalar_t* gp = g.const_data_ptr<scalar_t>();
    const scalar_t* op = out.const_data_ptr<scalar_t>();
    scalar_t* dp = dx.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, out.numel(), kGrain, [&](int64_t begin, int64_t end) {
      constexpr int64_t kMaxRun = int64_t{1} << 30;
      for (; begin < end; begin += kMaxRun) {
        relu_mask_backward_run(gp + begin, op + begin, dp + begin, static_cast<int>(std::min(end - begin, kMaxRun)),
                               scale);
      }
    });
  });
  return dx;
}

// dropout(x, p); the backward re-derives the mask from the saved key.
class DropoutFunction : public torch::autograd::Function<DropoutFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
    RECORD_FUNCTION("torchzoo::dropout", std::vector<c10::IValue>({x}));
    return masked(x, remember(ctx, p));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return {masked(grads[0], recall(ctx)), torch::Tensor()};
  }

  // Draws the call's mask and keeps what re-derives it.
  static Mask remember(torch::autograd::AutogradContext* ctx, double p) {
    const uint64_t key = draw_key();
    ctx->saved_data["key"] = static_cast<int64_t>(key);
    ctx->saved_data["p"] = p;
    return mask_from(key, p);
  }
  static Mask recall(torch::autograd::AutogradContext* ctx) {
    return mask_from(static_cast<uint64_t>(ctx->saved_data["key"].toInt()), ctx->saved_data["p"].toDouble());
  }
};

// residual + dropout(x, p), residual of x's shape and dtype.
class DropoutAddFunction : public torch::autograd::Function<DropoutAddFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& residual, double p) {
    RECORD_FUNCTION("torchzoo::dropout_add", std::vector<c10::IValue>({x}));
    return masked(x, residual, DropoutFunction::remember(ctx, p), Pass::kMaskAdd);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return {masked(grads[0], DropoutFunction::recall(ctx)), grads[0], torch::Tensor()};
  }
};

// dropout(relu(x), p); the backward needs only the output (saved, as relu's own backward saves it).
class ReluDropoutFunction : public torch::autograd::Function<ReluDropoutFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
    RECORD_FUNCTION("torchzoo::relu_dropout", std::vector<c10::IValue>({x}));
    auto out = masked(x, torch::Tensor(), DropoutFunction::remember(ctx, p), Pass::kReluMask);
    ctx->save_for_backward({out});
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    return {relu_mask_backward(grads[0], ctx->get_saved_variables()[0], DropoutFunction::recall(ctx)),
            torch::Tensor()};
  }
};

bool has_kernel(const torch::Tensor& x) {
  return x.device().is_cpu() && x.layout() == torch::kStrided &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble ||
          x.scalar_type() == torch::kBFloat16 || x.scalar_type() == torch::kHalf);
}

void check_p(double p) { TORCHZOO_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got {}", p); }

}  // namespace

torch::Tensor fused_dropout(const torch::Tensor& x, double p, bool training) {
  check_p(p);
  if (!training || p == 0.0) return x;
  if (!has_kernel(x)) return at::dropout(x, p, /*train=*/true);
  return DropoutFunction::apply(x, p);
}

torch::Tensor fused_dropout_add(const torch::Tensor& x, const torch::Tensor& residual, double p, bool training) {
  check_p(p);
  if (!training || p == 0.0) return residual + x;
  if (!has_kernel(x) || residual.scalar_type() != x.scalar_type() || residual.device() != x.device() ||
      !residual.sizes().equals(x.sizes())) {
    return residual + fused_dropout(x, p, training);
  }
  return DropoutAddFunction::apply(x, residual, p);
}

torch::Tensor fused_relu_dropout(const torch::Tensor& x, double p, bool training) {
  check_p(p);
  if (!training || p == 0.0 || !has_kernel(x)) return fused_dropout(torch::relu(x), p, training);
  return ReluDropoutFunction::apply(x, p);
}

DropoutImpl::DropoutImpl(torch::nn::DropoutOptions options) : options(std::move(options)) { reset(); }

void DropoutImpl::reset() { check_p(options.p()); }

void DropoutImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::Dropout(p={})", options.p());
}

torch::Tensor DropoutImpl::forward(const torch::Tensor& x) {
  return fused_dropout(x, options.p(), is_training());
}

torch::Tensor DropoutImpl::forward_relu(const torch::Tensor& x) {
  return fused_relu_dropout(x, options.p(), is_training());
}

torch::Tensor DropoutImpl::forward_add(const torch::Tensor& x, const torch::Tensor& residual) {
  return fused_dropout_add(x, residual, options.p(), is_training());
}

}  // namespace torchzoo::layers
