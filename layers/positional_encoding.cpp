#include "torchzoo/layers/positional_encoding.h"

#include <cmath>

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

PositionalEncodingImpl::PositionalEncodingImpl(PositionalEncodingOptions options) : options(std::move(options)) {
  reset();
}

void PositionalEncodingImpl::reset() {
  const auto d_model = options.d_model();
  TORCHZOO_CHECK(d_model > 0 && d_model % 2 == 0, "PositionalEncoding: d_model must be positive and even, got {}",
                 d_model);
  TORCHZOO_CHECK(options.max_len() > 0, "PositionalEncoding: max_len must be positive, got {}", options.max_len());
  auto table = torch::zeros({options.max_len(), d_model});
  auto position = torch::arange(options.max_len(), torch::kLong).unsqueeze(1);           // [max_len, 1]
  auto div_term = torch::exp(torch::arange(0, d_model, 2, torch::kLong) *
                             -(std::log(10000.0) / static_cast<double>(d_model)));    // [d_model / 2]
  using torch::indexing::None;
  using torch::indexing::Slice;
  table.index_put_({Slice(), Slice(0, None, 2)}, torch::sin(position * div_term));
  table.index_put_({Slice(), Slice(1, None, 2)}, torch::cos(position * div_term));
  pe = register_buffer("pe", table.unsqueeze(0));  // [1, max_len, d_model]
  dropout = register_module("dropout", Dropout(options.dropout()));
}

void PositionalEncodingImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::PositionalEncoding(d_model={}, dropout={}, max_len={})", options.d_model(),
                        options.dropout(), options.max_len());
}

torch::Tensor PositionalEncodingImpl::forward(const torch::Tensor& x) { return forward_at(x, 0); }

torch::Tensor PositionalEncodingImpl::forward_at(const torch::Tensor& x, int64_t offset) {
  TORCHZOO_CHECK(x.dim() == 3 && x.size(2) == options.d_model(),
                 "PositionalEncoding: expected input of shape [B, T, {}], got {}", options.d_model(),
                 detail::shape_str(x.sizes()));
  TORCHZOO_CHECK(offset >= 0 && offset + x.size(1) <= options.max_len(),
                 "PositionalEncoding: positions {}..{} exceed max_len {}", offset, offset + x.size(1) - 1,
                 options.max_len());
  return dropout(x + pe.narrow(1, offset, x.size(1)));  // [B, T, d_model]
}

}  // namespace torchzoo::layers
