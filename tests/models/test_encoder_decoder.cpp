#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>
#include <sstream>

#include "torchzoo/models/encoder_decoder.h"
#include "../support/golden.h"

using namespace torchzoo::models;
using namespace torchzoo::testing;

namespace {

// make_golden.py's _small_model(): make_model(11, 11, N=2, d_model=32, d_ff=64, h=4, dropout=0.0).
EncoderDecoderOptions small_options() {
  return EncoderDecoderOptions(kVocab, kVocab).num_layers(2).d_model(32).d_ff(64).num_heads(4).dropout(0.0);
}

struct Example {
  torch::Tensor src, tgt, src_mask, tgt_mask;
};

// Two rows, the second padded, with masks built as the reference's Batch does.
Example example() {
  auto src = torch::tensor({1, 4, 7, 2, 9, 3, 1, 8, 5, 2, 0, 0}, torch::kLong).view({2, 6});
  auto tgt = torch::tensor({1, 3, 3, 6, 10, 1, 2, 9, 0, 0}, torch::kLong).view({2, 5});
  auto tgt_mask = tgt.ne(kPad).unsqueeze(-2) & torch::ones({1, 5, 5}, torch::kBool).tril();
  return {src, tgt, src.ne(kPad).unsqueeze(-2), tgt_mask};
}

torch::Tensor run(EncoderDecoderImpl& model, const Example& e) {
  return model.generator(model.forward(e.src, e.tgt, e.src_mask, e.tgt_mask));
}

std::set<std::string> parameter_names(torch::nn::Module& module) {
  std::set<std::string> names;
  for (const auto& item : module.named_parameters()) names.insert(item.key());
  return names;
}

}  // namespace

TEST_CASE("EncoderDecoder matches the reference make_model", "[models][encoder_decoder][golden]") {
  const bool fused = GENERATE(true, false);
  INFO((fused ? "fused" : "math") << " attention");
  const auto golden = load_golden("encoder_decoder");
  EncoderDecoder model(small_options().fused_attention(fused));
  model->eval();
  load_parameters(*model, golden);
  auto in = inputs(golden);
  auto out = model->generator(model(in.at("src"), in.at("tgt"), in.at("src_mask"), in.at("tgt_mask")));
  check_parity(*model, out, golden, in);
}

TEST_CASE("EncoderDecoder parameter and buffer names equal the reference state_dict", "[models][encoder_decoder]") {
  const auto golden = load_golden("encoder_decoder");
  std::set<std::string> expected;
  for (const auto& item : with_prefix(golden, "param.")) expected.insert(item.first);
  REQUIRE(expected.size() > 50);  // the golden file does hold the whole model

  EncoderDecoder model(small_options());
  const auto names = parameter_names(*model);
  std::set<std::string> only_ours, only_reference;
  std::set_difference(names.begin(), names.end(), expected.begin(), expected.end(),
                      std::inserter(only_ours, only_ours.end()));
  std::set_difference(expected.begin(), expected.end(), names.begin(), names.end(),
                      std::inserter(only_reference, only_reference.end()));
  INFO("only in torchzoo: " << only_ours.size() << ", only in the reference: " << only_reference.size());
  CHECK(only_ours.empty());
  CHECK(only_reference.empty());
  CHECK(names.count("src_embed.0.lut.weight"));
  CHECK(names.count("decoder.layers.1.src_attn.linears.2.bias"));

  const auto buffers = model->named_buffers();
  REQUIRE(buffers.contains("src_embed.1.pe"));
  REQUIRE(buffers.contains("tgt_embed.1.pe"));
  CHECK(buffers["src_embed.1.pe"].sizes() == torch::IntArrayRef({1, 5000, 32}));
  CHECK_FALSE(names.count("src_embed.1.pe"));  // a buffer, not a parameter
}

TEST_CASE("EncoderDecoder initialises matrices Xavier-uniform", "[models][encoder_decoder]") {
  torch::manual_seed(10);
  EncoderDecoder model(small_options());
  const auto params = model->named_parameters();
  const auto& weight = params["generator.proj.weight"];  // [11, 32]
  const double bound = std::sqrt(6.0 / (11 + 32));
  CHECK(weight.abs().max().item<double>() <= bound);
  CHECK(weight.abs().max().item<double>() > 0.8 * bound);
  CHECK(torch::equal(params["encoder.norm.a_2"], torch::ones({32})));  // vectors keep their own init
}

TEST_CASE("EncoderDecoder forward is decode(encode(src))", "[models][encoder_decoder]") {
  torch::manual_seed(11);
  EncoderDecoder model(small_options());
  model->eval();
  const auto e = example();
  auto memory = model->encode(e.src, e.src_mask);
  CHECK(memory.sizes() == torch::IntArrayRef({2, 6, 32}));
  auto out = model(e.src, e.tgt, e.src_mask, e.tgt_mask);
  CHECK(out.sizes() == torch::IntArrayRef({2, 5, 32}));
  check_close(out, model->decode(memory, e.src_mask, e.tgt, e.tgt_mask), 1e-6, "decode(encode)");
  CHECK(run(*model, e).sizes() == torch::IntArrayRef({2, 5, kVocab}));
}

TEST_CASE("A cloned EncoderDecoder computes the same function with its own parameters", "[models][encoder_decoder]") {
  torch::manual_seed(12);
  EncoderDecoder model(small_options());
  model->eval();
  auto copy = std::dynamic_pointer_cast<EncoderDecoderImpl>(model->clone());
  REQUIRE(copy);
  copy->eval();
  const auto e = example();
  auto expected = run(*model, e);
  CHECK(torch::equal(run(*copy, e), expected));

  const auto original_params = model->named_parameters();
  for (const auto& item : copy->named_parameters()) {
    INFO(item.key());
    CHECK(item.value().data_ptr() != original_params[item.key()].data_ptr());
  }
  {
    torch::NoGradGuard no_grad;
    copy->named_parameters()["encoder.layers.0.self_attn.linears.0.weight"].mul_(2.0);
  }
  CHECK(torch::equal(run(*model, e), expected));  // the original is untouched
  CHECK(max_abs_diff(run(*copy, e), expected) > 1e-4);  // and the clone's forward uses the changed weight
}

TEST_CASE("EncoderDecoder survives torch::save / torch::load", "[models][encoder_decoder]") {
  torch::manual_seed(13);
  EncoderDecoder model(small_options());
  model->eval();
  std::stringstream stream;
  torch::save(model, stream);

  torch::manual_seed(14);  // another initialisation, overwritten by the load
  EncoderDecoder loaded(small_options());
  loaded->eval();
  const auto e = example();
  auto expected = run(*model, e);
  REQUIRE(max_abs_diff(run(*loaded, e), expected) > 1e-4);
  torch::load(loaded, stream);
  CHECK(torch::equal(run(*loaded, e), expected));
}

TEST_CASE("EncoderDecoder validates its inputs", "[models][encoder_decoder][errors]") {
  EncoderDecoder model(small_options());
  const auto e = example();
  REQUIRE_THROWS_WITH(model(e.src.view({-1}), e.tgt, e.src_mask, e.tgt_mask),
                      Catch::Contains("EncoderDecoder: expected src [B, T_src] and tgt [B, T_tgt] with the same B, "
                                      "got [12] and [2, 5]"));
  REQUIRE_THROWS_WITH(model(e.src, e.tgt.narrow(0, 0, 1), e.src_mask, e.tgt_mask),
                      Catch::Contains("got [2, 6] and [1, 5]"));
  REQUIRE_THROWS_WITH(model(e.src.to(torch::kFloat), e.tgt, e.src_mask, e.tgt_mask),
                      Catch::Contains("Embeddings: expected integer token ids"));
  REQUIRE_THROWS_WITH(model(e.src, e.tgt, e.src_mask.to(torch::kFloat), e.tgt_mask),
                      Catch::Contains("expected a bool mask"));
  REQUIRE_THROWS_WITH(EncoderDecoder(small_options().d_model(30)), Catch::Contains("must be divisible by num_heads"));
}
