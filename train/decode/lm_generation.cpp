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

}  // namespace torchzoo::train
