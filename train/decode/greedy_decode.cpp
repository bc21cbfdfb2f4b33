#include "torchzoo/train/decode/greedy_decode.h"

#include <c10/core/InferenceMode.h>

#include <vector>

#include "torchzoo/common/check.h"
#include "torchzoo/train/decode/next_token_scorer.h"

namespace torchzoo::train {
namespace {

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
  for (int64_t i = 1; i < max_len; ++i) {
    auto next = scorer.next_logits(last).argmax(-1).to(torch::kCPU);  // [rows]; the log-probabilities' argmax
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
