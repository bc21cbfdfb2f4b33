#include "torchzoo/train/decode/lm_generation.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include "torchzoo/data/masks.h"
#include "torchzoo/common/check.h"

namespace torchzoo::train {

std::vector<int64_t> generate(models::DecoderOnlyLMImpl& model, const std::vector<int64_t>& prompt,
                              const GenerateOptions& options) {
  TORCHZOO_CHECK(!prompt.empty(), "generate: the prompt must hold at least one token");
  TORCHZOO_CHECK(options.max_tokens() >= 0, "generate: max_tokens must be >= 0, got {}", options.max_tokens());
  const auto max_len = model.options.max_len();
  TORCHZOO_CHECK(static_cast<int64_t>(prompt.size()) + options.max_tokens() <= max_len,
                 "generate: {} prompt tokens + max_tokens {} exceed the model's max_len {}", prompt.size(),
                 options.max_tokens(), max_len);
  model.eval();
  c10::InferenceMode inference;
  const auto device = model.parameters().front().device();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed());
  auto tokens = torch::tensor(prompt, torch::kLong).unsqueeze(0).to(device);  // [1, T]
  std::vector<int64_t> out;

  models::LMState state;
  torch::Tensor hidden;  // the last position's output [1, 1, d_model]
  if (options.use_cache()) {
    // The prompt goes through the cache one position at a time, as generation will.
    for (int64_t t = 0; t < tokens.size(1); ++t) hidden = model.step(tokens.narrow(1, t, 1), state);
  }
  for (int64_t i = 0; i < options.max_tokens(); ++i) {
    if (!options.use_cache()) {
      auto all = model.forward(tokens, data::causal_padding_mask(tokens, /*pad=*/-1));  // [1, T, d_model]
      hidden = all.narrow(1, all.size(1) - 1, 1);
    }
    auto log_probs = model.generator(hidden).select(1, 0).to(torch::kCPU, torch::kFloat);  // [1, vocab]
    const auto next = choose_next(log_probs, options.sampling(), generator).item<int64_t>();
    out.push_back(next);
    if (next == options.end_symbol()) break;
    auto next_token = torch::full({1, 1}, next, torch::TensorOptions().dtype(torch::kLong).device(device));
    if (options.use_cache()) {
      if (i + 1 < options.max_tokens()) hidden = model.step(next_token, state);
    } else {
      tokens = torch::cat({tokens, next_token}, 1);  // [1, T + 1]
    }
  }
  return out;
}

std::vector<std::vector<int64_t>> generate_batch(models::DecoderOnlyLMImpl& model,
                                                 const std::vector<std::vector<int64_t>>& prompts,
                                                 const GenerateOptions& options) {
  TORCHZOO_CHECK(options.max_tokens() >= 0, "generate_batch: max_tokens must be >= 0, got {}", options.max_tokens());
  const auto rows = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int64_t>> out(prompts.size());
  if (rows == 0 || options.max_tokens() == 0) return out;
  const int64_t max_len = model.options.max_len();
  std::vector<int64_t> limit(prompts.size());  // tokens each row may generate
  for (size_t r = 0; r < prompts.size(); ++r) {
    const auto length = static_cast<int64_t>(prompts[r].size());
    TORCHZOO_CHECK(length > 0 && length < max_len,
                   "generate_batch: prompt {} holds {} tokens; expected 1 to {} (the "
                   "model's max_len {} less one to generate)",
                   r, length, max_len - 1, max_len);
    limit[r] = std::min(options.max_tokens(), max_len - length);
  }
  model.eval();
  c10::InferenceMode inference;
  const auto device = model.parameters().front().device();
  const auto long_cpu = torch::TensorOptions().dtype(torch::kLong);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed());
  std::vector<int64_t> current(prompts.size());  // each row's token at the position this step reads
  for (size_t r = 0; r < prompts.size(); ++r) current[r] = prompts[r][0];
  std::vector<bool> done(prompts.size(), false);
  int64_t running = rows;
  models::LMState state;
  torch::Tensor history;  // [B, t + 1]: every position so far (without the cache)
  for (int64_t t = 0; running > 0; ++t) {
    const auto input = torch::tensor(current, long_cpu).view({rows, 1}).to(device);  // [B, 1]
    torch::Tensor hidden;                                                            // [B, 1, d_model]
    if (options.use_cache()) {
      hidden = model.step(input, state);
    } else {
      history = history.defined() ? torch::cat({history, input}, 1) : input;
      auto all = model.forward(history, data::causal_padding_mask(history, /*pad=*/-1));  // [B, t + 1, d_model]
      hidden = all.narrow(1, t, 1);
    }
    torch::Tensor next;  // [B] draws, for the rows past their prompt
    for (size_t r = 0; r < prompts.size() && !next.defined(); ++r) {
      if (!done[r] && t + 1 >= static_cast<int64_t>(prompts[r].size())) {
        auto log_probs = model.generator(hidden).select(1, 0).to(torch::kCPU, torch::kFloat);  // [B, vocab]
        next = choose_next(log_probs, options.sampling(), generator).to(torch::kCPU).contiguous();
      }
    }
    for (size_t r = 0; r < prompts.size(); ++r) {
      if (done[r]) continue;  // a finished row reads its last token again; its outputs are ignored
      if (t + 1 < static_cast<int64_t>(prompts[r].size())) {
        current[r] = prompts[r][static_cast<size_t>(t + 1)];
        continue;
      }
      current[r] = next.data_ptr<int64_t>()[r];
      out[r].push_back(current[r]);
      if (current[r] == options.end_symbol() || static_cast<int64_t>(out[r].size()) == limit[r]) {
        done[r] = true;
        --running;
      }
    }
  }
  return out;
}

}  // namespace torchzoo::train
