#include "torchzoo/layers/positionwise_feed_forward.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

PositionwiseFeedForwardImpl::PositionwiseFeedForwardImpl(PositionwiseFeedForwardOptions options)
    : options(std::move(options)) {
  reset();
}

void PositionwiseFeedForwardImpl::reset() {
  TORCHZOO_CHECK(options.d_model() > 0 && options.d_ff() > 0,
                 "PositionwiseFeedForward: d_model and d_ff must be positive, got {} and {}", options.d_model(),
                 options.d_ff());
  TORCHZOO_CHECK(options.dropout() >= 0 && options.dropout() < 1,
                 "PositionwiseFeedForward: dropout must be in [0, 1), got {}", options.dropout());
  w_1 = register_module("w_1", torch::nn::Linear(options.d_model(), options.d_ff()));
  w_2 = register_module("w_2", torch::nn::Linear(options.d_ff(), options.d_model()));
  dropout = register_module("dropout", Dropout(options.dropout()));
}

void PositionwiseFeedForwardImpl::reset_parameters() {
  w_1->reset_parameters();
  w_2->reset_parameters();
}

void PositionwiseFeedForwardImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::PositionwiseFeedForward(d_model={}, d_ff={}, dropout={}, activation={})",
                        options.d_model(), options.d_ff(), options.dropout(), to_string(options.activation()));
}

void PositionwiseFeedForwardImpl::set_int8_inference(bool on) {
  packed_w_1_.set_int8(on);
  packed_w_2_.set_int8(on);
}

torch::Tensor PositionwiseFeedForwardImpl::forward(const torch::Tensor& x) {
  TORCHZOO_CHECK(x.dim() >= 1 && x.size(-1) == options.d_model(),
                 "PositionwiseFeedForward: expected input of shape [..., {}], got {}", options.d_model(),
                 detail::shape_str(x.sizes()));
  const bool relu = options.activation() == Activation::kRelu;
  if (!is_training() && relu) {  // no dropout: the ReLU goes into w_1's kernel where it is oneDNN's
    return packed_w_2_(packed_w_1_(x, w_1->weight, w_1->bias, /*relu=*/true), w_2->weight, w_2->bias);
  }
  auto hidden = packed_w_1_(x, w_1->weight, w_1->bias);  // [B, T, d_ff]
  hidden = relu ? dropout->forward_relu(hidden) : dropout(activate(options.activation(), hidden));
  return packed_w_2_(hidden, w_2->weight, w_2->bias);  // [B, T, d_model]
}

}  // namespace torchzoo::layers
