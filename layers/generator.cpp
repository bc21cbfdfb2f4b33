#include "torchzoo/layers/generator.h"

#include "torchzoo/common/check.h"

namespace torchzoo::layers {

GeneratorImpl::GeneratorImpl(GeneratorOptions options) : options(std::move(options)) { reset(); }

void GeneratorImpl::reset() {
  TORCHZOO_CHECK(options.d_model() > 0 && options.vocab() > 0,
                 "Generator: d_model and vocab must be positive, got {} and {}", options.d_model(), options.vocab());
  proj = register_module("proj", torch::nn::Linear(options.d_model(), options.vocab()));
}

void GeneratorImpl::reset_parameters() { proj->reset_parameters(); }

void GeneratorImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("torchzoo::layers::Generator(d_model={}, vocab={})", options.d_model(), options.vocab());
}

torch::Tensor GeneratorImpl::forward(const torch::Tensor& x) {
  return torch::log_softmax(logits(x), -1);  // [B, T, vocab]
}

void GeneratorImpl::set_int8_inference(bool on) { packed_proj_.set_int8(on); }

torch::Tensor GeneratorImpl::logits(const torch::Tensor& x) {
  TORCHZOO_CHECK(x.dim() >= 1 && x.size(-1) == options.d_model(),
                 "Generator: expected input of shape [..., {}], got {}", options.d_model(),
                 detail::shape_str(x.sizes()));
  return packed_proj_(x, proj->weight, proj->bias);  // [B, T, vocab]
}

}  // namespace torchzoo::layers
