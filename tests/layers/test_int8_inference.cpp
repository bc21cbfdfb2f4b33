#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/layers/generator.h"
#include "torchzoo/layers/int8_inference.h"
#include "torchzoo/layers/positionwise_feed_forward.h"
#include "torchzoo/models/encoder_decoder.h"

using namespace torchzoo;

namespace {

/// ||a - b|| / ||b||
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / b.norm().item<double>();
}

}  // namespace

TEST_CASE("Int8 inference runs a feed-forward close to float32, and float32 again when switched off",
          "[layers][int8]") {
  REQUIRE(layers::int8_inference_available());
  torch::manual_seed(11);
  layers::PositionwiseFeedForward ff(layers::PositionwiseFeedForwardOptions(64, 256));
  ff->eval();
  const auto rows = GENERATE(1, 3, 40);  // one row (greedy decoding of a sentence), a few, an encoder's
  INFO(rows << " rows");
  const auto x = torch::randn({1, rows, 64});
  torch::NoGradGuard no_grad;
  const auto reference = ff(x);
  REQUIRE(layers::set_int8_inference(*ff, true) == 1);
  const auto int8 = ff(x);
  REQUIRE(int8.sizes() == reference.sizes());
  INFO("relative error " << relative_error(int8, reference));
  CHECK(relative_error(int8, reference) < 0.05);  // 8-bit weights per row, 7-bit inputs per tensor
  CHECK((int8 - reference).abs().max().item<double>() > 0);  // really quantized
  CHECK(int8.min().item<float>() >= -1e6);                   // finite, ReLU's zeros kept through w_2

  // A weight changed in place is quantized again.
  const auto w_1 = ff->w_1->weight.clone();
  ff->w_1->weight.mul_(-1.5);
  const auto changed = ff->forward(x);
  layers::set_int8_inference(*ff, false);
  const auto changed_float = ff->forward(x);
  CHECK(relative_error(changed, changed_float) < 0.05);
  ff->w_1->weight.copy_(w_1);
  CHECK(torch::equal(ff(x), reference));  // float32 again: the very same path as before
}

TEST_CASE("Int8 inference leaves training alone: with gradients the linears are float32", "[layers][int8]") {
  torch::manual_seed(12);
  layers::Generator generator(layers::GeneratorOptions(32, 100));
  const auto x = torch::randn({2, 5, 32});
  const auto reference = generator(x);
  layers::set_int8_inference(*generator, true);
  auto out = generator(x);
  CHECK(torch::equal(out, reference));
  out.sum().backward();
  REQUIRE(generator->proj->weight.grad().defined());
  torch::NoGradGuard no_grad;
  CHECK(relative_error(generator->logits(x), torch::nn::functional::linear(x, generator->proj->weight,
                                                                            generator->proj->bias)) < 0.05);
}

TEST_CASE("set_int8_inference reaches every attention, feed-forward and generator of a model", "[layers][int8]") {
  models::EncoderDecoder model(models::EncoderDecoderOptions(20, 20).num_layers(2).d_model(32).d_ff(64).num_heads(4));
  // 2 encoder layers x (self-attention, feed-forward) + 2 decoder layers x (self, source, feed-forward)
  // + the generator
  CHECK(layers::set_int8_inference(*model, true) == 11);
  CHECK(layers::set_int8_inference(*model, false) == 11);
}
