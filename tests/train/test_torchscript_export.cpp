// TorchScript export: every model family and option variant gives the C++ model's outputs for new
// batch sizes and lengths, before and after a save/load round trip; the decoding methods give the
// tokens of train/greedy_decode and train/lm_generation.
#include <torch/script.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <filesystem>

#include "../support/temp_dir.h"
#include "torchzoo/data/masks.h"
#include "torchzoo/models/models.h"
#include "torchzoo/train/decode/greedy_decode.h"
#include "torchzoo/train/decode/lm_generation.h"
#include "torchzoo/train/export/torchscript_export.h"

using namespace torchzoo;
using train::TorchScriptExportOptions;

namespace {

constexpr int64_t ts_vocab = 13;
constexpr int64_t ts_pad = 0;

/// Random tokens in [1, vocab) with the last `padding` positions of row 0 set to pad.
torch::Tensor ts_tokens(int64_t batch, int64_t length, int64_t padding = 0) {
  auto tokens = torch::randint(1, ts_vocab, {batch, length}, torch::kLong);
  if (padding > 0) tokens[0].narrow(0, length - padding, padding).fill_(ts_pad);
  return tokens;
}

/// Saves `scripted` and loads it back (the file round trip every deployment makes).
torch::jit::Module ts_round_trip(torch::jit::Module& scripted, const std::string& name) {
  const auto path = testing::fresh_dir("torchscript_" + name) / "model.pt";
  scripted.save(path.string());
  return torch::jit::load(path.string());
}

/// max |a - b|.
double ts_max_error(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a - b).abs().max().item<double>();
}

/// `method` of the export, and of its saved-and-loaded copy, on `inputs` gives `expected` within 1e-5.
void ts_check(torch::jit::Module& scripted, torch::jit::Module& loaded, const std::string& method,
              const std::vector<c10::IValue>& inputs, const torch::Tensor& expected) {
  for (auto* module : {&scripted, &loaded}) {
    // Twice: the profiling executor optimises a method after its first runs.
    for (int run = 0; run < 2; ++run) {
      auto out = module->get_method(method)(inputs).toTensor();
      INFO(method << " run " << run << (module == &loaded ? " (loaded)" : " (exported)"));
      CHECK(ts_max_error(out, expected) <= 1e-5);
    }
  }
}

models::EncoderDecoderOptions ts_encoder_decoder_options() {
  return models::EncoderDecoderOptions(ts_vocab, ts_vocab).num_layers(2).d_model(16).d_ff(32).num_heads(4).max_len(64);
}

models::DecoderOnlyLMOptions ts_lm_options() {
  return models::DecoderOnlyLMOptions(ts_vocab).num_layers(2).d_model(16).d_ff(32).num_heads(4).max_len(40);
}

models::TransformerEncoderClassifierOptions ts_classifier_options() {
  return models::TransformerEncoderClassifierOptions(ts_vocab, 3).num_layers(2).d_model(16).d_ff(32).num_heads(4);
}

models::VisionTransformerOptions ts_vit_options() {
  return models::VisionTransformerOptions()
      .img_size(8)
      .patch_size(4)
      .in_chans(1)
      .num_classes(5)
      .embed_dim(16)
      .depth(2)
      .num_heads(2);
}

}  // namespace

TEST_CASE("TorchScript export of EncoderDecoder gives its outputs and greedy decoding", "[export][torchscript]") {
  auto options = ts_encoder_decoder_options();
  SECTION("pre-norm, fused attention, separate embeddings") {}
  SECTION("post-norm, math attention, GELU, torch layer norm, shared and tied embeddings") {
    options.norm_first(false)
        .fused_attention(false)
        .activation(layers::Activation::kGelu)
        .use_torch_layer_norm(true)
        .share_embeddings(true)
        .tie_generator(true);
  }
  torch::manual_seed(1);
  models::EncoderDecoder model(options);
  model->eval();
  auto scripted = train::to_torchscript(*model, TorchScriptExportOptions().start_symbol(1).end_symbol(2).pad(ts_pad));
  auto loaded = ts_round_trip(scripted, "encoder_decoder");

  torch::NoGradGuard no_grad;
  for (auto [batch, src_len, tgt_len] : {std::tuple{3, 7, 5}, std::tuple{1, 11, 9}, std::tuple{5, 4, 6}}) {
    INFO("batch " << batch << ", source " << src_len << ", target " << tgt_len);
    auto src = ts_tokens(batch, src_len, /*padding=*/src_len / 3);
    auto tgt = ts_tokens(batch, tgt_len, /*padding=*/1);
    auto src_mask = data::padding_mask(src, ts_pad);
    auto tgt_mask = data::causal_padding_mask(tgt, ts_pad);
    ts_check(scripted, loaded, "forward", {src, tgt, src_mask, tgt_mask}, model->forward(src, tgt, src_mask, tgt_mask));
    auto memory = model->encode(src, src_mask);
    ts_check(scripted, loaded, "encode", {src, src_mask}, memory);
    ts_check(scripted, loaded, "decode", {memory, src_mask, tgt, tgt_mask},
             model->decode(memory, src_mask, tgt, tgt_mask));

    for (int64_t end_symbol : {int64_t{-1}, int64_t{2}}) {
      auto expected = train::greedy_decode(
          *model, src, src_mask, train::GreedyDecodeOptions(/*max_len=*/12, /*start_symbol=*/1).end_symbol(end_symbol));
      for (auto* module : {&scripted, &loaded}) {
        auto tokens = module->run_method("greedy_decode", src, src_mask, 12, 1, end_symbol, ts_pad).toTensor();
        CHECK(tokens.equal(expected));
      }
    }
  }
  // The defaults of greedy_decode are the export options'.
  auto src = ts_tokens(2, 6);
  auto src_mask = data::padding_mask(src, ts_pad);
  auto expected = train::greedy_decode(*model, src, src_mask,
                                       train::GreedyDecodeOptions(/*max_len=*/9, /*start_symbol=*/1).end_symbol(2));
  CHECK(loaded.run_method("greedy_decode", src, src_mask, 9).toTensor().equal(expected));
}

TEST_CASE("TorchScript export of DecoderOnlyLM gives its outputs and generation", "[export][torchscript]") {
  auto options = ts_lm_options();
  SECTION("learned positions, tied embeddings, fused attention") {}
  SECTION("sinusoidal positions, untied, math attention, torch layer norm") {
    options.learned_positions(false).tie_embeddings(false).fused_attention(false).use_torch_layer_norm(true);
  }
  torch::manual_seed(2);
  models::DecoderOnlyLM model(options);
  model->eval();
  auto scripted = train::to_torchscript(*model, TorchScriptExportOptions().end_symbol(3).pad(ts_pad));
  auto loaded = ts_round_trip(scripted, "decoder_only_lm");

  torch::NoGradGuard no_grad;
  for (auto [batch, length] : {std::pair{2, 9}, std::pair{4, 3}, std::pair{1, 17}}) {
    INFO("batch " << batch << ", length " << length);
    auto tokens = ts_tokens(batch, length, /*padding=*/2);
    auto mask = data::causal_padding_mask(tokens, ts_pad);
    ts_check(scripted, loaded, "forward", {tokens, mask}, model->forward(tokens, mask));
  }
  for (auto [prompt_length, end_symbol] : {std::pair{1, int64_t{-1}}, std::pair{5, int64_t{3}}}) {
    INFO("prompt " << prompt_length << ", end symbol " << end_symbol);
    auto prompt = ts_tokens(1, prompt_length);
    std::vector<int64_t> ids(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt_length);
    auto expected = train::generate(*model, ids,
                                    train::GenerateOptions()
                                        .max_tokens(20)
                                        .end_symbol(end_symbol)
                                        .sampling(train::SamplingOptions().temperature(0)));
    for (auto* module : {&scripted, &loaded}) {
      auto tokens =
          module->run_method("generate", prompt, 20, /*temperature=*/0.0, 0, 1.0, end_symbol, ts_pad).toTensor();
      REQUIRE(tokens.size(0) == 1);
      std::vector<int64_t> generated(tokens.data_ptr<int64_t>() + prompt_length,
                                     tokens.data_ptr<int64_t>() + tokens.size(1));
      CHECK(generated == expected);
    }
  }
  // Sampling draws from torch's default generator: the same seed gives the same tokens, for a batch of prompts.
  auto prompts = ts_tokens(3, 4);
  torch::manual_seed(7);
  auto first = loaded.run_method("generate", prompts, 10, 0.8, 5, 0.9).toTensor();
  torch::manual_seed(7);
  auto second = loaded.run_method("generate", prompts, 10, 0.8, 5, 0.9).toTensor();
  CHECK(first.equal(second));
  CHECK(first.narrow(1, 0, 4).equal(prompts));
  CHECK(first.size(1) <= 14);
  CHECK_THROWS_WITH(loaded.run_method("generate", prompts, 40), Catch::Contains("exceed max_len 40"));
}

TEST_CASE("TorchScript export of TransformerEncoderClassifier gives its logits", "[export][torchscript]") {
  auto options = ts_classifier_options();
  SECTION("cls pooling, pre-norm, sinusoidal positions") {}
  SECTION("mean pooling, post-norm, learned positions, math attention") {
    options.pooling(models::Pooling::kMean).norm_first(false).learned_positions(true).fused_attention(false);
  }
  torch::manual_seed(3);
  models::TransformerEncoderClassifier model(options);
  model->eval();
  auto scripted = train::to_torchscript(*model);
  auto loaded = ts_round_trip(scripted, "classifier");
  torch::NoGradGuard no_grad;
  for (auto [batch, length] : {std::pair{2, 9}, std::pair{6, 4}}) {
    INFO("batch " << batch << ", length " << length);
    auto tokens = ts_tokens(batch, length, /*padding=*/2);
    auto mask = data::padding_mask(tokens, ts_pad);
    ts_check(scripted, loaded, "forward", {tokens, mask}, model->forward(tokens, mask));
  }
}

TEST_CASE("TorchScript export of BertClassifier gives its logits", "[export][torchscript][bert]") {
  torch::manual_seed(4);
  models::BertClassifier model(models::BertClassifierOptions(models::BertOptions()
                                                                 .vocab_size(50)
                                                                 .hidden_size(16)
                                                                 .num_hidden_layers(2)
                                                                 .num_attention_heads(2)
                                                                 .intermediate_size(32)
                                                                 .max_position_embeddings(20),
                                                             /*num_classes=*/3));
  model->eval();
  auto scripted = train::to_torchscript(*model);
  auto loaded = ts_round_trip(scripted, "bert_classifier");
  torch::NoGradGuard no_grad;
  for (auto [batch, length] : {std::pair{2, 9}, std::pair{5, 4}}) {
    INFO("batch " << batch << ", length " << length);
    auto tokens = ts_tokens(batch, length, /*padding=*/2);
    auto mask = data::padding_mask(tokens, ts_pad);
    ts_check(scripted, loaded, "forward", {tokens, mask}, model->forward(tokens, mask));
  }
}

TEST_CASE("TorchScript export of VisionTransformer gives its logits", "[export][torchscript]") {
  auto options = ts_vit_options();
  SECTION("class token, fused attention") {}
  SECTION("average pooling, LayerScale, math attention, no qkv bias") {
    options.global_pool(models::GlobalPool::kAvg)
        .init_values(0.1)
        .fused_attention(false)
        .qkv_bias(false)
        .drop_path_rate(0.1);
  }
  torch::manual_seed(4);
  models::VisionTransformer model(options);
  model->eval();
  auto scripted = train::to_torchscript(*model);
  auto loaded = ts_round_trip(scripted, "vit");
  torch::NoGradGuard no_grad;
  for (int64_t batch : {3, 1, 7}) {
    INFO("batch " << batch);
    auto images = torch::randn({batch, 1, 8, 8});
    ts_check(scripted, loaded, "forward", {images}, model->forward(images));
    ts_check(scripted, loaded, "forward_features", {images}, model->forward_features(images));
  }
}

TEST_CASE("TorchScript export keeps the state_dict names, shared weights and the model untouched",
          "[export][torchscript]") {
  models::EncoderDecoder model(ts_encoder_decoder_options().share_embeddings(true).tie_generator(true));
  auto scripted = train::to_torchscript(*model);
  std::map<std::string, torch::Tensor> exported;
  for (const auto& item : scripted.named_parameters()) exported[item.name] = item.value;
  for (const auto& item : scripted.named_buffers()) exported[item.name] = item.value;
  std::set<std::string> expected_names;
  for (const auto& item : model->named_parameters()) expected_names.insert(item.key());
  for (const auto& item : model->named_buffers()) expected_names.insert(item.key());
  std::set<std::string> names;
  for (const auto& [name, value] : exported) names.insert(name);
  CHECK(names == expected_names);
  CHECK(exported.at("generator.proj.weight").is_same(exported.at("src_embed.0.lut.weight")));
  CHECK(exported.at("tgt_embed.0.lut.weight").is_same(exported.at("src_embed.0.lut.weight")));
  // Copies: training the model on does not change the export.
  CHECK_FALSE(exported.at("encoder.norm.a_2").is_alias_of(model->encoder->norm->a_2));
  CHECK(exported.at("encoder.norm.a_2").equal(model->encoder->norm->a_2));
  CHECK(model->is_training());
  CHECK_FALSE(scripted.is_training());
}

TEST_CASE("TorchScript export names a submodule it cannot write and leaves no file", "[export][torchscript][errors]") {
  torch::nn::Sequential model(torch::nn::Linear(4, 4), torch::nn::GRU(4, 4));
  const auto path = testing::fresh_dir("torchscript_unknown") / "model.pt";
  CHECK_THROWS_WITH(train::export_torchscript(*model, path.string()),
                    Catch::Contains("submodule '1' is a torch::nn::GRU") && Catch::Contains("no TorchScript form"));
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(std::filesystem::is_empty(path.parent_path()));
}

TEST_CASE("TorchScript export stores extra files beside the code", "[export][torchscript]") {
  models::VisionTransformer model(ts_vit_options());
  const auto path = testing::fresh_dir("torchscript_extra") / "model.pt";
  train::export_torchscript(*model, path.string(),
                            TorchScriptExportOptions().extra_files({{"config.yaml", "model:\n  name: vit\n"}}));
  torch::jit::ExtraFilesMap extra{{"config.yaml", ""}};
  auto loaded = torch::jit::load(path.string(), torch::kCPU, extra);
  CHECK(extra.at("config.yaml") == "model:\n  name: vit\n");
  CHECK(loaded.find_method("forward").has_value());
}
