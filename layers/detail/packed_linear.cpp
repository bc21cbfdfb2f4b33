#include "torchzoo/layers/detail/packed_linear.h"

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/ops/quantize_per_channel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/relu.h>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "torchzoo/layers/detail/linear.h"
#include "torchzoo/layers/detail/onednn_ops.h"
#include "torchzoo/layers/detail/vectorize.h"

namespace torchzoo::detail {
namespace {

/// FBGEMM's dynamic-quantization ops as LibTorch registers them (boxed: the packed weight is a
/// TorchScript class), or nothing where this build has none.
struct Int8Ops {
  std::optional<c10::OperatorHandle> prepack;  // quantized::linear_prepack(W qint8, B?) -> packed
  std::optional<c10::OperatorHandle> linear;   // quantized::linear_dynamic(X, packed, reduce_range) -> Y
};

const Int8Ops& int8_ops() {
  static const Int8Ops ops = [] {
    Int8Ops found;
    const auto& engines = at::globalContext().supportedQEngines();
    const bool fbgemm = std::any_of(engines.begin(), engines.end(), [](at::QEngine engine) {
      return engine == at::QEngine::FBGEMM || engine == at::QEngine::X86;
    });
    auto& dispatcher = c10::Dispatcher::singleton();
    auto prepack = dispatcher.findSchema({"quantized::linear_prepack", ""});
    auto linear = dispatcher.findSchema({"quantized::linear_dynamic", ""});
    if (fbgemm && prepack && linear) {
      found.prepack = *prepack;
      found.linear = *linear;
    }
    return found;
  }();
  return ops;
}

/// Swallows the warnings of a scope: PyTorch marks its quantized tensor types deprecated, and says
/// so on stderr at the first quantized tensor made.
class QuietWarnings : public c10::WarningHandler {
 public:
  void process(const c10::Warning&) override {}
};

/// weight [out, in] float -> quantized::linear_prepack's packed int8 weight (scale max|row| / 127
/// per output row, zero point 0) with the float bias.
c10::IValue pack_int8(const torch::Tensor& weight, const torch::Tensor& bias) {
  const auto w = weight.contiguous();
  const auto scales = w.abs().amax(1).div(127.0).clamp_min(1e-12).to(torch::kDouble);  // [out]
  QuietWarnings quiet;
  c10::WarningUtils::WarningHandlerGuard guard(&quiet);
  auto q = at::quantize_per_channel(w, scales, torch::zeros({w.size(0)}, torch::kLong), 0, at::kQInt8);
  std::vector<c10::IValue> stack{q, bias.defined() ? c10::IValue(bias.contiguous()) : c10::IValue()};
  int8_ops().prepack->callBoxed(&stack);
  return stack.at(0);
}

// One row through the plain weight: y[o] = w[o] . x + b[o] (then max(0, .)), for outputs
// [begin, end); the weight streams through once, as a matrix-vector product must (oneDNN's kernel
// for one row reaches about two thirds of its bandwidth, MKL's half).
TORCHZOO_AVX2_CLONE void row_times_weight(const float* __restrict w, const float* __restrict x,
                                          const float* __restrict b, float* __restrict y, int64_t begin,
                                          int64_t end, int in, bool relu) {
  for (int64_t o = begin; o < end; ++o) {
    float sum = dot_product(w + o * in, x, in);
    if (b != nullptr) sum += b[o];
    y[o] = relu ? std::max(sum, 0.0f) : sum;
  }
}

/// x [..., in] holding one row -> [..., out].
torch::Tensor one_row_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             bool relu) {
  RECORD_FUNCTION("torchzoo::one_row_linear", std::vector<c10::IValue>({x}));  // named in profiles
  const auto in = weight.size(1), out = weight.size(0);
  const auto w = weight.contiguous();
  const auto row = x.contiguous();
  const auto b = bias.defined() ? bias.contiguous() : torch::Tensor();
  auto sizes = x.sizes().vec();
  sizes.back() = out;
  auto y = torch::empty(sizes, x.options());
  const float* w_data = w.data_ptr<float>();
  const float* x_data = row.data_ptr<float>();
  const float* b_data = b.defined() ? b.data_ptr<float>() : nullptr;
  float* y_data = y.data_ptr<float>();
  // Tasks of at least 16k weights: smaller ones cost more to hand out than to compute.
  const int64_t grain = std::max<int64_t>(16, (int64_t{1} << 14) / std::max<int64_t>(in, 1));
  at::parallel_for(0, out, grain, [&](int64_t begin, int64_t end) {
    row_times_weight(w_data, x_data, b_data, y_data, begin, end, static_cast<int>(in), relu);
  });
  return y;
}

}  // namespace

namespace {
int64_t version_of(const torch::Tensor& t) { return t.is_inference() ? 0 : static_cast<int64_t>(t._version()); }
}  // namespace

TensorStamp::TensorStamp(const torch::Tensor& tensor)
    : tensor_(tensor), version_(tensor.defined() ? version_of(tensor) : 0) {}

bool TensorStamp::matches(const torch::Tensor& tensor) const {
  if (!tensor.defined() || !tensor_.defined()) return tensor.defined() == tensor_.defined();
  return tensor.is_same(tensor_) && version_of(tensor) == version_;
}

bool PackedLinear::packable(const torch::Tensor& x, const torch::Tensor& weight) {
  return !c10::GradMode::is_enabled() && x.device().is_cpu() && weight.device().is_cpu() &&
         x.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat && x.dim() >= 1 && weight.dim() == 2 &&
         !at::autocast::is_autocast_enabled(at::kCPU) && at::globalContext().userEnabledMkldnn() &&
         onednn_ops().linear.has_value();
}

torch::Tensor PackedLinear::operator()(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                       bool relu) {
  if (!packable(x, weight) || (bias.defined() && bias.scalar_type() != weight.scalar_type())) {
    auto y = linear(x, weight, bias);  // at::linear, or oneDNN's training kernel (detail/linear.h)
    return relu ? at::relu(y) : y;
  }
  TORCH_CHECK(x.size(-1) == weight.size(1), "linear: expected input of shape [..., ", weight.size(1), "], got ",
              x.sizes());
  if (int8_) return int8_linear(x, weight, bias, relu);
  if (x.numel() == x.size(-1) && weight.size(1) <= std::numeric_limits<int>::max()) {
    return one_row_linear(x, weight, bias, relu);  // decoding one sentence: a matrix-vector product
  }
  if (!packed_.defined() || !weight_.matches(weight) || !bias_.matches(bias)) {
    packed_ = onednn_ops().reorder->call(weight.contiguous(), std::nullopt);  // oneDNN's blocked layout
    weight_ = TensorStamp(weight);
    bias_ = TensorStamp(bias);
  }
  return onednn_linear(x.contiguous(), packed_, bias, relu);
}

bool PackedLinear::int8_available() { return int8_ops().linear.has_value(); }

void PackedLinear::set_int8(bool on) {
  TORCH_CHECK(!on || int8_available(),
              "int8 linears: this LibTorch has no FBGEMM quantized engine (quantized::linear_dynamic)");
  if (on != int8_) clear();
  int8_ = on;
}

torch::Tensor PackedLinear::int8_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                        bool relu) {
  if (int8_packed_.isNone() || !weight_.matches(weight) || !bias_.matches(bias)) {
    int8_packed_ = pack_int8(weight, bias);
    weight_ = TensorStamp(weight);
    bias_ = TensorStamp(bias);
  }
  // Rows [N, in]: the op takes 2-d input and x86's reduced range (7-bit x) as quantize_dynamic does.
  std::vector<c10::IValue> stack{x.contiguous().view({-1, x.size(-1)}), int8_packed_, true};
  int8_ops().linear->callBoxed(&stack);
  auto y = stack.at(0).toTensor();
  if (relu) y.relu_();
  auto sizes = x.sizes().vec();
  sizes.back() = weight.size(0);
  return y.view(sizes);  // [..., out]
}

}  // namespace torchzoo::detail
