#pragma once
// Linear layers for inference on the CPU through oneDNN, with the weight
// reordered once into oneDNN's blocked layout: PyTorch's own
// mkldnn::_reorder_linear_weight and mkldnn::_linear_pointwise, the kernels
// that Inductor's weight freezing uses. Against at::linear (MKL's sgemm on the
// plain [out, in] weight at every call) this runs a Transformer's linears 2-2.5x
// faster at the small row counts of decoding (1 to 128 rows; BENCHMARKS.md).
//
// A single row (decoding one sentence greedily) takes torchzoo's own
// matrix-vector kernel on the plain weight instead, which streams the weight at
// about 1.5x the bandwidth of oneDNN's kernel for one row (2x MKL's).
//
// A PackedLinear keeps the packed weight beside the module's parameters (a
// second copy of them) and packs again when the weight or bias changes: another
// storage, or another version counter (every tensor op that writes in place
// counts one; parameters made under InferenceMode have no counter and are taken
// as fixed). With gradients, under CPU autocast, off the CPU, for dtypes other
// than float32, or where LibTorch lacks the oneDNN ops, it is at::linear.
//
// With set_int8(true) the same calls run in int8 instead, as dynamic quantization
// does it (torch.ao.quantization.quantize_dynamic, CTranslate2's int8): the
// weight is quantized once, symmetrically per output row, and packed for FBGEMM;
// each call quantizes x per tensor and accumulates in int32 (PyTorch's
// quantized::linear_dynamic, with x86's reduced 7-bit range for x). The result
// is float32, close to the float one, not equal (BENCHMARKS.md measures the BLEU
// it costs). Only where the float path would take oneDNN, and where LibTorch has
// the quantized ops (int8_available()).
//
// Shapes: x [..., in], weight [out, in], bias [out] or undefined -> [..., out].
//
// Example:
//   detail::PackedLinear packed;                        // a module member
//   auto y = packed(x, layer->weight, layer->bias);     // x W^T + b
#include <cstdint>

#include <ATen/core/ivalue.h>
#include <torch/types.h>

namespace torchzoo::detail {

/// What a cache was made from: the tensor itself (held, so that no other tensor can take its place
/// at its address) and its version counter (0 for inference tensors, which have none).
class TensorStamp {
 public:
  TensorStamp() = default;
  explicit TensorStamp(const torch::Tensor& tensor);
  /// The same tensor (or both undefined), not written since.
  bool matches(const torch::Tensor& tensor) const;

 private:
  torch::Tensor tensor_;
  int64_t version_ = 0;
};

class PackedLinear {
 public:
  /// x weight^T + bias, then max(0, .) with `relu`.
  torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                           bool relu = false);
  /// Whether the call takes oneDNN's packed path (see above).
  static bool packable(const torch::Tensor& x, const torch::Tensor& weight);
  /// Drops the packed copies (they are made again on the next packed call).
  void clear() {
    packed_ = torch::Tensor();
    int8_packed_ = c10::IValue();
  }
  /// Run packed calls in int8 (dynamic quantization, see above) or, with false, in float32 again.
  void set_int8(bool on);
  bool int8() const { return int8_; }
  /// Whether this LibTorch can run int8 linears (FBGEMM's quantized engine and ops).
  static bool int8_available();

 private:
  torch::Tensor int8_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, bool relu);

  bool int8_ = false;
  torch::Tensor packed_;       ///< float32 weight in oneDNN's layout
  c10::IValue int8_packed_;    ///< int8 weight and float bias packed for FBGEMM
  TensorStamp weight_, bias_;  ///< what the packed copy in use was made from
};

}  // namespace torchzoo::detail
