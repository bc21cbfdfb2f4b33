#pragma once
// Golden values written by tests/reference/make_golden.py (one <case>.pt per
// case, a flat dict str -> Tensor) and the checks every parity test shares.
//
// Keys: param.<name>, input.<name>, output, loss_weights, grad.<param name>,
// grad_input.<input name>. The loss of a case is (output * loss_weights).sum().
//
// Example:
//   auto golden = load_golden("layer_norm");
//   LayerNorm norm(16);
//   norm->eval();
//   load_parameters(*norm, golden);
//   auto in = inputs(golden);
//   check_parity(*norm, norm(in.at("x")), golden, in);
#include <map>
#include <string>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace torchzoo::testing {

using Golden = std::map<std::string, torch::Tensor>;
using Tensors = std::map<std::string, torch::Tensor>;

/// Tolerances of the parity tests (the same as make_golden.py's).
constexpr double kOutputAtol = 1e-5;
constexpr double kGradAtol = 1e-4;

/// Sizes the reference cases use (B, D, H, D_FF, VOCAB, PAD in make_golden.py).
constexpr int64_t kBatch = 2;
constexpr int64_t kDModel = 16;
constexpr int64_t kHeads = 4;
constexpr int64_t kDff = 32;
constexpr int64_t kVocab = 11;
constexpr int64_t kPad = 0;

/// Folder the golden files are in (TORCHZOO_GOLDEN_DIR).
std::string golden_dir();

/// Reads <golden_dir>/<case_name>.pt; throws naming the file if it is missing or unreadable.
Golden load_golden(const std::string& case_name);

/// The tensor stored under `key`; throws naming the key and the keys present if absent.
const torch::Tensor& golden_value(const Golden& golden, const std::string& key);

/// Every entry whose key starts with `prefix`, with the prefix removed.
Tensors with_prefix(const Golden& golden, const std::string& prefix);

/// Copies every param.<name> into the module's parameter of that name, and
/// REQUIREs that the module's parameter names equal the golden ones exactly
/// (the weight-transfer contract: names equal the reference's state_dict keys).
void load_parameters(torch::nn::Module& module, const Golden& golden);

/// Fresh copies of the input.* tensors; those with a grad_input.* entry require grad.
Tensors inputs(const Golden& golden);

/// CHECKs shape, dtype and values (|got - expected| <= atol, rtol 0; bool and
/// integer tensors must be equal), reporting the max abs difference.
void check_close(const torch::Tensor& got, const torch::Tensor& expected, double atol, const std::string& what);

/// Checks `output` against golden `output` (kOutputAtol), then back-propagates
/// (output * loss_weights).sum() and checks every grad.* against the module's
/// parameter grads and every grad_input.* against the grads of `inputs`
/// (kGradAtol). The module's grads are reset first.
void check_parity(torch::nn::Module& module, const torch::Tensor& output, const Golden& golden,
                  const Tensors& inputs);

/// Max |a - b| as a double (for messages).
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace torchzoo::testing
