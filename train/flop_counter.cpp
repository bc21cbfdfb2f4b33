#include "torchzoo/train/flop_counter.h"

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>

#include <ATen/record_function.h>
#include <torch/csrc/profiler/util.h>

namespace torchzoo::train {
namespace {

std::atomic<uint64_t> counted{0};  // by every counter's callback, since the process started
std::mutex registration;
int counters = 0;
at::CallbackHandle handle = 0;

/// The matrix products of the fused attention kernels (2 B H L S E operations each): QK^T and PV
/// forward; dQ, dK, dV and dP backward. `at`: where the query is among the inputs (the backward's
/// first input is the output's gradient), the key follows it.
uint64_t attention_flops(const at::RecordFunction& fn, int products, size_t at) {
  const auto inputs = fn.inputs();
  if (inputs.size() < at + 2 || !inputs[at].isTensor() || !inputs[at + 1].isTensor()) return 0;
  const auto& query = inputs[at].toTensor();    // [B, H, L, E]
  const auto& key = inputs[at + 1].toTensor();  // [B, H, S, E]
  if (query.dim() < 2 || key.dim() < 2) return 0;
  const auto rows = static_cast<uint64_t>(query.numel() / query.size(-1));  // B H L
  const auto keys = static_cast<uint64_t>(key.size(-2));                     // S
  return 2ULL * static_cast<uint64_t>(products) * rows * keys * static_cast<uint64_t>(query.size(-1));
}

bool is_matrix_op(const std::string& name) {
  static const char* const kNames[] = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::conv2d"};
  for (const char* known : kNames) {
    if (name == known) return true;
  }
  return false;
}

/// The callback RecordFunction runs before each op (a plain function: it takes no captures).
std::unique_ptr<at::ObserverContext> count_op(const at::RecordFunction& fn) {
  const std::string name = fn.name();
  uint64_t flops = 0;
  if (is_matrix_op(name)) {
    flops = torch::profiler::impl::computeFlops(name, torch::profiler::impl::saveExtraArgs(fn));
  } else if (name == "aten::_scaled_dot_product_flash_attention_for_cpu" ||
             name == "aten::_scaled_dot_product_flash_attention") {
    flops = attention_flops(fn, 2, 0);
  } else if (name == "aten::_scaled_dot_product_flash_attention_for_cpu_backward" ||
             name == "aten::_scaled_dot_product_flash_attention_backward") {
    flops = attention_flops(fn, 4, 1);
  }
  if (flops > 0) counted.fetch_add(flops);
  return nullptr;
}

}  // namespace

// One callback however many counters live (each reads the difference since it started).
FlopCounter::FlopCounter() {
  std::lock_guard<std::mutex> lock(registration);
  if (counters++ == 0) {
    handle = at::addGlobalCallback(
        at::RecordFunctionCallback(count_op).needsInputs(true).scopes({at::RecordScope::FUNCTION}));
  }
  start_ = counted.load();
}

FlopCounter::~FlopCounter() {
  std::lock_guard<std::mutex> lock(registration);
  if (--counters == 0) at::removeCallback(handle);
}

uint64_t FlopCounter::flops() const { return counted.load() - start_; }

}  // namespace torchzoo::train
