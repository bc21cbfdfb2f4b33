#pragma once
// Boolean attention masks, true = may attend (the convention of every torchzoo layer).
#include <torch/types.h>

namespace torchzoo::data {

/// [1, size, size]: position i may attend to positions 0..i (lower triangle with the diagonal).
torch::Tensor subsequent_mask(int64_t size, torch::Device device = torch::kCPU);

/// tokens [B, T] -> [B, 1, T]: true where the token is not `pad`.
torch::Tensor padding_mask(const torch::Tensor& tokens, int64_t pad);

/// tokens [B, T] -> [B, T, T]: padding mask combined with the subsequent mask
/// (the reference's Batch.make_std_mask).
torch::Tensor causal_padding_mask(const torch::Tensor& tokens, int64_t pad);

}  // namespace torchzoo::data
