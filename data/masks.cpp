#include "torchzoo/data/masks.h"

#include "torchzoo/common/check.h"

namespace torchzoo::data {

torch::Tensor subsequent_mask(int64_t size, torch::Device device) {
  TORCHZOO_CHECK(size > 0, "subsequent_mask: size must be positive, got {}", size);
  return torch::ones({1, size, size}, torch::TensorOptions().dtype(torch::kBool).device(device)).tril();
}

torch::Tensor padding_mask(const torch::Tensor& tokens, int64_t pad) {
  TORCHZOO_CHECK(tokens.dim() == 2, "padding_mask: expected tokens of shape [B, T], got {}",
                 detail::shape_str(tokens.sizes()));
  return tokens.ne(pad).unsqueeze(-2);  // [B, 1, T]
}

torch::Tensor causal_padding_mask(const torch::Tensor& tokens, int64_t pad) {
  return padding_mask(tokens, pad) & subsequent_mask(tokens.size(1), tokens.device());  // [B, T, T]
}

}  // namespace torchzoo::data
