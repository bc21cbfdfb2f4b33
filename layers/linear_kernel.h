#pragma once
// Which kernel runs the float32 linears of training on the CPU.
//
// at::linear, what Python's nn.Linear calls, runs them through the BLAS
// LibTorch was built with (MKL's sgemm in the x86 wheels). oneDNN, which
// LibTorch also carries, is faster for a Transformer's shapes on some CPUs and
// slower on others: on an AMD EPYC (Zen 4, AVX-512) its forward and input
// gradient ran 10-40 % faster than MKL, its weight gradient (a reduction over
// every row of the batch) up to 2x slower (BENCHMARKS.md). kOneDnn routes every
// torchzoo linear that takes gradients through mkldnn::_linear_pointwise for the
// forward and the input's gradient, and keeps BLAS for the weight's; oneDNN's
// sums run in another order, so results differ from at::linear's by float
// rounding. Under CPU autocast, off the CPU, for other
// dtypes, or where LibTorch lacks the op, linears stay at::linear. A graph built
// through the oneDNN kernel cannot be differentiated twice.
//
// The choice is process-wide. The trainer sets it from `train.linear_kernel`
// (auto measures both once per machine: train/gemm_ceiling.h).
#include <string>

namespace torchzoo::layers {

enum class LinearKernel {
  kBlas,    ///< at::linear (MKL, OpenBLAS, ...): PyTorch's default and torchzoo's
  kOneDnn,  ///< mkldnn::_linear_pointwise on the plain weight
};

void set_linear_kernel(LinearKernel kernel);
LinearKernel linear_kernel();
/// Whether this LibTorch has oneDNN's linear op (and oneDNN is enabled).
bool onednn_linear_available();
/// "blas" or "onednn".
std::string to_string(LinearKernel kernel);
/// "blas" or "onednn" -> the kernel; anything else throws, naming what was expected.
LinearKernel parse_linear_kernel(const std::string& name);

}  // namespace torchzoo::layers
