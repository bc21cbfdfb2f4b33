#include "torchzoo/train/decode/greedy_decode.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <vector>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/detail/vectorize.h"
#include "torchzoo/train/decode/next_token_scorer.h"

namespace torchzoo::train {
namespace {

// The first index of the largest of n floats, a NaN counting as the largest (as torch.argmax).
// Two vectorisable passes over a row that lies in cache: its maximum, then where it first occurs.
TORCHZOO_AVX2_CLONE int64_t first_argmax(const float* __restrict x, int n) {
  float top = x[0];
  int nans = 0;
  for (int i = 0; i < n; ++i) {
    top = x[i] > top ? x[i] : top;
    nans += x[i] != x[i];
  }
  for (int i = 0; i < n; ++i) {
    if (nans > 0 ? x[i] != x[i] : x[i] == top) return i;
  }
  return 0;
}

/// The argmax of each row of logits [rows, vocab] -> [rows] int64 on the CPU: ATen's, except for
/// float32 CPU logits, where ATen's reduction costs about as much as a small decoding step's op.
torch::Tensor argmax_rows(const torch::Tensor& logits) {
  if (!logits.device().is_cpu() || logits.scalar_type() != torch::kFloat || logits.dim() != 2 ||
      logits.size(1) < 1 || logits.size(1) > (int64_t{1} << 30)) {
    return logits.argmax(-1).to(torch::kCPU);
  }
  const auto rows = logits.contiguous();
  auto ids = torch::empty({rows.size(0)}, torch::kLong);
  const float* data = rows.data_ptr<float>();
  auto* out = ids.data_ptr<int64_t>();
  const auto vocab = static_cast<int>(rows.size(1));
  at::parallel_for(0, rows.size(0), 4, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) out[r] = first_argmax(data + r * vocab, vocab);
  });
  return ids;
}

/// Decodes every row of src into `out` (row r's tokens at out[r * max_len ...], start symbol first,
/// pad after its end symbol) under InferenceMode; returns the columns decoded.
int64_t decode_into(models::EncoderDecoderImpl& model, const torch::Tensor& src, const torch::Tensor& src_mask,
                    const GreedyDecodeOptions& options, std::vector<int64_t>& out) {
  c10::InferenceMode inference;  // no autograd bookkeeping: a step's ops are small, their overhead is not
  const int64_t batch = src.size(0), max_len = options.max_len();
  const auto device = src.device();
  const auto long_cpu = torch::TensorOptions().dtype(torch::kLong);
  NextTokenScorer scorer(model, model.encode(src, src_mask), src_mask, options.use_cache());

  // The scorer's rows: which output row each decodes, or -1 once it has ended. Ended rows are
  // carried until they are a quarter of the rows, then dropped from the batch (their keys and values
  // with them), so that a batch's long tail does not pay for its finished sentences.
  std::vector<int64_t> rows(static_cast<size_t>(batch));
  for (int64_t r = 0; r < batch; ++r) {
    rows[static_cast<size_t>(r)] = r;
    out[static_cast<size_t>(r * max_len)] = options.start_symbol();
  }
  int64_t ended = 0;  // scorer rows that have ended
  int64_t length = 1;
  auto last = torch::full({batch, 1}, options.start_symbol(), long_cpu.device(device));  // [rows, 1]
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed());
  for (int64_t i = 1; i < max_len; ++i) {
    auto logits = scorer.next_logits(last);  // [rows, vocab] log-probabilities
    auto next = options.sampling() ? choose_next(logits.to(torch::kCPU, torch::kFloat), *options.sampling(), generator)
                                   : argmax_rows(logits);  // [rows] on the CPU
    const auto* ids = next.data_ptr<int64_t>();
    length = i + 1;
    for (size_t j = 0; j < rows.size(); ++j) {
      if (rows[j] < 0) continue;
      out[static_cast<size_t>(rows[j] * max_len + i)] = ids[j];
      if (ids[j] == options.end_symbol()) {
        rows[j] = -1;
        ++ended;
      }
    }
    const auto carried = static_cast<int64_t>(rows.size());
    if (ended == carried) break;
    if (4 * ended >= carried) {
      std::vector<int64_t> keep, kept_rows;  // the scorer rows that go on, and their output rows
      for (size_t j = 0; j < rows.size(); ++j) {
        if (rows[j] < 0) continue;
        keep.push_back(static_cast<int64_t>(j));
        kept_rows.push_back(rows[j]);
      }
      auto keep_cpu = torch::tensor(keep, long_cpu);
      scorer.select_rows(keep_cpu.to(device));
      next = next.index_select(0, keep_cpu);
      rows = std::move(kept_rows);
      ended = 0;
    }
    last = next.view({-1, 1}).to(device);  // [rows, 1]
  }
  return length;
}

}  // namespace

torch::Tensor greedy_decode(models::EncoderDecoderImpl& model, const torch::Tensor& src, const torch::Tensor& src_mask,
                            const GreedyDecodeOptions& options) {
  TORCHZOO_CHECK(options.max_len() >= 1, "greedy_decode: max_len must be >= 1, got {}", options.max_len());
  TORCHZOO_CHECK(src.dim() == 2, "greedy_decode: expected src of shape [B, T_src], got {}",
                 detail::shape_str(src.sizes()));
  const int64_t batch = src.size(0), max_len = options.max_len();
  std::vector<int64_t> out(static_cast<size_t>(batch * max_len), options.pad());
  const int64_t length = decode_into(model, src, src_mask, options, out);
  // Made outside InferenceMode: a normal tensor, for autograd and in-place use.
  auto tokens = torch::from_blob(out.data(), {batch, max_len}, torch::kLong).narrow(1, 0, length);
  return tokens.to(src.device(), /*non_blocking=*/false, /*copy=*/true);  // [B, length]
}

}  // namespace torchzoo::train
