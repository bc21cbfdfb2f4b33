#include "torchzoo/train/decode/beam_search.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "torchzoo/common/check.h"
#include "torchzoo/train/decode/next_token_scorer.h"

namespace torchzoo::train {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void check_arguments(const torch::Tensor& src, const torch::Tensor& src_mask, const BeamSearchOptions& o) {
  TORCHZOO_CHECK(o.beam_size() >= 1, "beam_search: beam_size must be >= 1, got {}", o.beam_size());
  TORCHZOO_CHECK(o.n_best() >= 1 && o.n_best() <= o.beam_size(),
                 "beam_search: n_best must be in [1, beam_size = {}], got {}", o.beam_size(), o.n_best());
  TORCHZOO_CHECK(o.length_penalty() >= 0, "beam_search: length_penalty must be >= 0, got {}", o.length_penalty());
  TORCHZOO_CHECK(o.max_len() >= 1, "beam_search: max_len must be >= 1, got {}", o.max_len());
  TORCHZOO_CHECK(o.max_len_a() >= 0, "beam_search: max_len_a must be >= 0, got {}", o.max_len_a());
  TORCHZOO_CHECK(src.dim() == 2, "beam_search: expected src of shape [B, T_src], got {}",
                 detail::shape_str(src.sizes()));
  TORCHZOO_CHECK(src_mask.defined() && src_mask.scalar_type() == torch::kBool &&
                     src_mask.sizes() == torch::IntArrayRef({src.size(0), 1, src.size(1)}),
                 "beam_search: expected a bool src_mask of shape [{}, 1, {}], got {}", src.size(0), src.size(1),
                 src_mask.defined() ? fmt::format("{} of type {}", detail::shape_str(src_mask.sizes()),
                                                  c10::toString(src_mask.scalar_type()))
                                    : "undefined");
}

/// Each sentence's maximum output length (max_output_length of its source tokens).
std::vector<int64_t> max_lengths(const torch::Tensor& src_mask, const BeamSearchOptions& o) {
  auto source_tokens = src_mask.sum({1, 2}).to(torch::kCPU);  // [B]
  std::vector<int64_t> lengths;
  for (int64_t s = 0; s < source_tokens.size(0); ++s) {
    lengths.push_back(max_output_length(source_tokens[s].item<int64_t>(), o.max_len_a(), o.max_len_b(), o.max_len()));
  }
  return lengths;
}

/// Beams that go on to the next step: the row of this step each extends, its new token and its
/// cumulative log-probability.
struct Beams {
  std::vector<int64_t> rows;
  std::vector<int64_t> tokens;
  std::vector<float> log_probs;

  size_t size() const { return rows.size(); }
  void push_back(int64_t row, int64_t token, float log_prob) {
    rows.push_back(row);
    tokens.push_back(token);
    log_probs.push_back(log_prob);
  }
};

/// Whether a sentence's search is over after step `length` (the criteria of the header). `best_live`
/// is the highest log-probability among its beams that go on, each `length` tokens long.
bool search_over(const std::vector<Hypothesis>& finished, float best_live, int64_t length, int64_t max_length,
                 const BeamSearchOptions& o) {
  if (length == max_length) {
    return true;
  }
  const auto count = static_cast<int64_t>(finished.size());
  if (count < o.n_best()) {
    return false;
  }
  std::vector<double> scores;
  for (const auto& h : finished) scores.push_back(h.score);
  std::nth_element(scores.begin(), scores.begin() + (o.n_best() - 1), scores.end(), std::greater<>());
  const double nth_best = scores[o.n_best() - 1];
  const double alpha = o.length_penalty();
  return nth_best >= best_live / length_penalty(max_length, alpha) ||
         (count >= o.beam_size() && nth_best >= best_live / length_penalty(length, alpha));
}

/// Best first; the n_best best.
void keep_n_best(std::vector<Hypothesis>& finished, int64_t n_best) {
  std::stable_sort(finished.begin(), finished.end(),
                   [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
  if (static_cast<int64_t>(finished.size()) > n_best) {
    finished.resize(n_best);
  }
}

}  // namespace

int64_t max_output_length(int64_t source_tokens, double max_len_a, int64_t max_len_b, int64_t max_len) {
  const auto length = static_cast<int64_t>(std::floor(max_len_a * static_cast<double>(source_tokens))) + max_len_b;
  return std::clamp<int64_t>(length, 1, std::max<int64_t>(max_len, 1));
}

double length_penalty(int64_t length, double alpha) {
  return alpha == 0 ? 1.0 : std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha);
}

std::vector<std::vector<Hypothesis>> beam_search(models::EncoderDecoderImpl& model, const torch::Tensor& src,
                                                 const torch::Tensor& src_mask, const BeamSearchOptions& options) {
  check_arguments(src, src_mask, options);
  c10::InferenceMode inference;  // no autograd bookkeeping: a step's ops are small, their overhead is not
  const int64_t batch = src.size(0);
  const int64_t beam = options.beam_size();
  const auto device = src.device();
  const auto long_cpu = torch::TensorOptions().dtype(torch::kLong);
  const auto max_length = max_lengths(src_mask, options);

  NextTokenScorer scorer(model, model.encode(src, src_mask), src_mask, options.use_cache());
  // Row s * beam + k holds beam k of sentence s. All beams start from the start symbol; only beam 0
  // is live at first, so that the first step does not pick the same continuation beam times.
  scorer.select_rows(torch::arange(batch, long_cpu.device(device)).repeat_interleave(beam));
  auto beam_log_probs = torch::full({batch, beam}, kNegInf, torch::TensorOptions().device(device));  // [B, beam]
  beam_log_probs.select(1, 0).fill_(0.0);
  auto last_tokens = torch::full({batch * beam, 1}, options.start_symbol(), long_cpu.device(device));  // [B * beam, 1]
  auto prefixes = torch::empty({batch * beam, 0}, long_cpu);  // on the CPU, start symbol excluded
  std::vector<int64_t> sentences(batch);                      // the sentence of each group of beam rows
  std::iota(sentences.begin(), sentences.end(), 0);
  std::vector<std::vector<Hypothesis>> finished(batch);

  for (int64_t step = 1; !sentences.empty(); ++step) {
    const auto n = static_cast<int64_t>(sentences.size());
    auto log_probs = scorer.next(last_tokens).to(torch::kFloat);  // [n * beam, vocab]
    const auto vocab = log_probs.size(1);
    TORCHZOO_CHECK(vocab >= 2, "beam_search: needs a vocabulary of at least 2 tokens, got {}", vocab);
    if (options.pad() >= 0 && options.pad() < vocab) {
      log_probs.select(1, options.pad()).fill_(kNegInf);
    }
    // Every continuation of every beam, by cumulative log-probability; the 2 x beam best of each sentence.
    auto candidates = (beam_log_probs.view({n * beam, 1}) + log_probs).view({n, beam * vocab});  // [n, beam * vocab]
    auto [top_log_probs, top_index] = candidates.topk(std::min(2 * beam, beam * vocab), 1);      // [n, 2 * beam]
    top_log_probs = top_log_probs.to(torch::kCPU);
    top_index = top_index.to(torch::kCPU);
    const auto top_lp = top_log_probs.accessor<float, 2>();
    const auto top_at = top_index.accessor<int64_t, 2>();
    const auto prefix = prefixes.accessor<int64_t, 2>();

    Beams next;
    std::vector<int64_t> still_searching;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t s = sentences[i];
      const bool last_step = step == max_length[s];
      Beams live;
      for (int64_t rank = 0; rank < top_index.size(1); ++rank) {
        const float log_prob = top_lp[i][rank];
        const int64_t row = i * beam + top_at[i][rank] / vocab;
        const int64_t token = top_at[i][rank] % vocab;
        const bool ends = token == options.end_symbol();
        if (rank < beam && log_prob > kNegInf && (ends || last_step)) {
          Hypothesis h;
          for (int64_t j = 0; j < step - 1; ++j) h.tokens.push_back(prefix[row][j]);
          if (!ends) h.tokens.push_back(token);
          h.log_prob = log_prob;
          h.score = log_prob / length_penalty(step, options.length_penalty());
          finished[s].push_back(std::move(h));
        }
        if (!ends && static_cast<int64_t>(live.size()) < beam) {
          live.push_back(row, token, log_prob);
        }
      }
      const float best_live = live.size() > 0 ? live.log_probs.front() : kNegInf;
      if (search_over(finished[s], best_live, step, max_length[s], options)) {
        keep_n_best(finished[s], options.n_best());
        continue;
      }
      // At most one of a beam's continuations ends, so the 2 x beam candidates hold beam that go on.
      TORCH_INTERNAL_ASSERT(static_cast<int64_t>(live.size()) == beam);
      still_searching.push_back(s);
      for (size_t k = 0; k < live.size(); ++k) next.push_back(live.rows[k], live.tokens[k], live.log_probs[k]);
    }
    if (still_searching.empty()) {
      break;
    }
    // Rows follow the beams they extend; the rows of sentences whose search is over are dropped.
    auto rows = torch::tensor(next.rows, long_cpu);                                   // [n' * beam]
    auto tokens = torch::tensor(next.tokens, long_cpu);                               // [n' * beam]
    prefixes = torch::cat({prefixes.index_select(0, rows), tokens.unsqueeze(1)}, 1);  // [n' * beam, step]
    // While no sentence's search is over, each row takes a beam of its own sentence: the encoder
    // side stays as it is.
    scorer.select_rows(rows.to(device), /*same_sources=*/still_searching.size() == sentences.size());
    last_tokens = tokens.view({-1, 1}).to(device);                               // [n' * beam, 1]
    beam_log_probs = torch::tensor(next.log_probs).view({-1, beam}).to(device);  // [n', beam]
    sentences = std::move(still_searching);
  }
  return finished;
}

}  // namespace torchzoo::train
