#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>
#include <sstream>

#include "../support/golden.h"
#include "torchzoo/data/masks.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/models/encoder_decoder.h"

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
  CHECK(torch::equal(run(*model, e), expected));        // the original is untouched
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

TEST_CASE("EncoderDecoder decode_step equals decode position by position", "[models][encoder_decoder][incremental]") {
  const bool fused = GENERATE(true, false);
  const bool norm_first = GENERATE(true, false);
  INFO((fused ? "fused" : "math") << " attention, " << (norm_first ? "pre" : "post") << "-norm");
  torch::manual_seed(15);
  EncoderDecoder model(small_options().fused_attention(fused).norm_first(norm_first));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto e = example();  // row 1's source is padded
  auto memory = model->encode(e.src, e.src_mask);
  const auto t_tgt = e.tgt.size(1);
  auto whole = model->generator(
      model->decode(memory, e.src_mask, e.tgt, torchzoo::data::subsequent_mask(t_tgt)));  // [B, T_tgt, vocab]

  auto state = model->init_decoder_state(memory, e.src_mask);
  for (int64_t t = 0; t < t_tgt; ++t) {
    INFO("position " << t);
    auto out = model->decode_step(e.tgt.narrow(1, t, 1), state);  // [B, 1, d_model]
    REQUIRE(out.sizes() == torch::IntArrayRef({2, 1, 32}));
    check_close(model->generator(out), whole.narrow(1, t, 1), 1e-5, "step log-probabilities");
  }
  CHECK(state.length() == t_tgt);
  REQUIRE_THROWS_WITH(model->decode_step(e.tgt, state),
                      Catch::Contains("EncoderDecoder: decode_step expects the last tokens [2, 1], got [2, 5]"));
}

namespace {

EncoderDecoderOptions tied_options() { return small_options().share_embeddings(true).tie_generator(true); }

bool same(const torch::OrderedDict<std::string, torch::Tensor>& params, const std::string& a, const std::string& b) {
  return params[a].is_same(params[b]);
}

void check_tied(EncoderDecoderImpl& model) {
  const auto params = model.named_parameters();
  CHECK(same(params, "src_embed.0.lut.weight", "tgt_embed.0.lut.weight"));
  CHECK(same(params, "tgt_embed.0.lut.weight", "generator.proj.weight"));
  CHECK(model.generator->proj->weight.is_same(params["src_embed.0.lut.weight"]));
  CHECK(torchzoo::layers::unique_parameters(model).size() == params.size() - 2);
}

}  // namespace

TEST_CASE("EncoderDecoder shares embeddings and ties the generator under the reference names",
          "[models][encoder_decoder][tied]") {
  torch::manual_seed(16);
  EncoderDecoder untied(small_options());
  EncoderDecoder tied(tied_options());
  CHECK(parameter_names(*tied) == parameter_names(*untied));  // state_dict keys unchanged
  check_tied(*tied);
  CHECK(torchzoo::layers::unique_parameters(*untied).size() == untied->named_parameters().size());
  CHECK_FALSE(tied->generator->proj->bias.is_same(tied->named_parameters()["tgt_embed.0.lut.weight"]));

  // Only the source and target embeddings shared, or only the generator tied.
  EncoderDecoder shared(small_options().share_embeddings(true));
  auto p = shared->named_parameters();
  CHECK(same(p, "src_embed.0.lut.weight", "tgt_embed.0.lut.weight"));
  CHECK_FALSE(same(p, "tgt_embed.0.lut.weight", "generator.proj.weight"));
  EncoderDecoder generator_only(
      EncoderDecoderOptions(7, kVocab).num_layers(1).d_model(32).d_ff(64).tie_generator(true));
  p = generator_only->named_parameters();
  CHECK(same(p, "tgt_embed.0.lut.weight", "generator.proj.weight"));
  CHECK_FALSE(same(p, "src_embed.0.lut.weight", "tgt_embed.0.lut.weight"));

  // One gradient for the shared matrix, with contributions from all three uses.
  tied->eval();
  run(*tied, example()).sum().backward();
  const auto& grad = tied->generator->proj->weight.grad();
  REQUIRE(grad.defined());
  CHECK(tied->named_parameters()["src_embed.0.lut.weight"].grad().is_same(grad));

  REQUIRE_THROWS_WITH(EncoderDecoder(EncoderDecoderOptions(11, 12).share_embeddings(true)),
                      Catch::Contains("EncoderDecoder: share_embeddings needs one vocabulary, got src_vocab 11 and "
                                      "tgt_vocab 12"));
}

TEST_CASE("A tied EncoderDecoder keeps its ties through torch::save / torch::load", "[models][encoder_decoder][tied]") {
  torch::manual_seed(17);
  EncoderDecoder model(tied_options());
  model->eval();
  std::stringstream stream;
  torch::save(model, stream);

  torch::manual_seed(18);
  EncoderDecoder loaded(tied_options());
  loaded->eval();
  torch::load(loaded, stream);
  const auto e = example();
  CHECK(torch::equal(run(*loaded, e), run(*model, e)));
  check_tied(*loaded);

  // An update through one name is seen through the others.
  {
    torch::NoGradGuard no_grad;
    loaded->named_parameters()["src_embed.0.lut.weight"].add_(1.0);
  }
  const auto params = loaded->named_parameters();
  const auto expected = model->named_parameters()["src_embed.0.lut.weight"] + 1.0;
  CHECK(torch::equal(params["tgt_embed.0.lut.weight"], expected));
  CHECK(torch::equal(params["generator.proj.weight"], expected));
}

TEST_CASE("A cloned tied EncoderDecoder is tied to itself, not to the original", "[models][encoder_decoder][tied]") {
  torch::manual_seed(19);
  EncoderDecoder model(tied_options());
  model->eval();
  auto copy = std::dynamic_pointer_cast<EncoderDecoderImpl>(model->clone());
  REQUIRE(copy);
  copy->eval();
  check_tied(*copy);
  const auto e = example();
  auto expected = run(*model, e);
  CHECK(torch::equal(run(*copy, e), expected));
  CHECK(copy->generator->proj->weight.data_ptr() != model->generator->proj->weight.data_ptr());
  {
    torch::NoGradGuard no_grad;
    copy->named_parameters()["tgt_embed.0.lut.weight"].mul_(2.0);
  }
  CHECK(torch::equal(copy->named_parameters()["src_embed.0.lut.weight"],
                     2.0 * model->named_parameters()["src_embed.0.lut.weight"]));
  CHECK(torch::equal(run(*model, e), expected));  // the original is untouched

  // Module::to converts each registered tensor in place: the ties survive it.
  copy->to(torch::kDouble);
  check_tied(*copy);
  CHECK(copy->generator->proj->weight.scalar_type() == torch::kDouble);
}
