// model.init_from: a config's model starts from the weights of a safetensors file.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <filesystem>

#include "../support/temp_dir.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/families/registry.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/models/vision_transformer.h"
#include "torchzoo/train/export/safetensors.h"

namespace fs = std::filesystem;
using namespace torchzoo;
using configs::Config;

namespace {

/// The model section's keys (without braces) of a small model of each registered kind.
const std::map<std::string, std::string> kInitModels = {
    {"encoder_decoder",
     "name: encoder_decoder, src_vocab: 11, tgt_vocab: 11, num_layers: 1, d_model: 16, d_ff: 32, num_heads: 2, "
     "tie_generator: true"},
    {"vision_transformer",
     "name: vision_transformer, img_size: 8, patch_size: 4, in_chans: 1, num_classes: 3, embed_dim: 16, depth: 1, "
     "num_heads: 2"},
    {"transformer_encoder_classifier",
     "name: transformer_encoder_classifier, vocab: 11, num_classes: 3, num_layers: 1, d_model: 16, d_ff: 32, "
     "num_heads: 2"},
    {"decoder_only_lm", "name: decoder_only_lm, vocab: 11, num_layers: 1, d_model: 16, d_ff: 32, num_heads: 2"}};

/// A config of `model_keys` (plus init_from when `init_from` is not empty) and train.seed.
Config init_config(const std::string& model_keys, const std::string& init_from, int seed,
                   const std::string& name = "init.yaml") {
  std::string model = model_keys;
  if (!init_from.empty()) model += ", init_from: '" + init_from + "'";
  return Config::parse("model: {" + model + "}\ntrain: {seed: " + std::to_string(seed) + "}\n", name);
}

/// Builds the model of `model_keys` with seed 7, moves its weights off their initial values and
/// exports it to `path`; returns its parameters and buffers.
train::NamedTensors init_export(const std::string& model_name, const std::string& path) {
  auto config = init_config(kInitModels.at(model_name), "", 7);
  auto model = families::build_model(config);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : layers::unique_parameters(*model)) p.add_(torch::randn_like(p) * 0.05);
  }
  train::export_safetensors(*model, path, model_name, config.to_yaml());
  return train::module_state(*model);
}

void init_check_equal(const torch::nn::Module& model, const train::NamedTensors& expected) {
  const auto got = train::module_state(model);
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(got[i].first);
    CHECK(got[i].first == expected[i].first);
    CHECK(torch::equal(got[i].second, expected[i].second));
  }
}

}  // namespace

TEST_CASE("model.init_from loads a safetensors file into every registered model", "[configs][init_from]") {
  const std::string name = GENERATE(as<std::string>{}, "encoder_decoder", "vision_transformer",
                                    "transformer_encoder_classifier", "decoder_only_lm");
  INFO(name);
  const auto dir = testing::fresh_dir("init_from_" + name);
  const auto path = (dir / "weights.safetensors").string();
  const auto saved = init_export(name, path);

  auto config = init_config(kInitModels.at(name), path, 8);  // another seed: other initial weights
  init_check_equal(*families::build_model(config), saved);

  // Relative paths are relative to the current directory, as data paths are.
  const auto relative = fs::relative(path, fs::current_path()).string();
  REQUIRE(fs::path(relative).is_relative());
  auto relative_config = init_config(kInitModels.at(name), relative, 9);
  init_check_equal(*families::build_model(relative_config), saved);
}

TEST_CASE("model.init_from errors name the config, the key and the file", "[configs][init_from][errors]") {
  const auto dir = testing::fresh_dir("init_from_errors");
  const auto path = (dir / "lm.safetensors").string();
  init_export("decoder_only_lm", path);

  const auto missing = (dir / "missing.safetensors").string();
  auto no_file = init_config(kInitModels.at("decoder_only_lm"), missing, 1);
  CHECK_THROWS_WITH(families::build_model(no_file),
                    Catch::Contains("init.yaml:1:") &&
                        Catch::Contains("model.init_from: safetensors file '" + missing + "': no such file"));

  // Another model's weights: the names do not fit, and the file's metadata says what it was.
  auto other_model = init_config(kInitModels.at("transformer_encoder_classifier"), path, 1);
  CHECK_THROWS_WITH(families::build_model(other_model),
                    Catch::Contains("model.init_from: safetensors file '" + path + "' does not fit this model") &&
                        Catch::Contains("missing") &&
                        Catch::Contains("(the file was exported from a 'decoder_only_lm' model, this config builds "
                                        "a 'transformer_encoder_classifier')"));

  // The same model, another width: the shapes are listed.
  auto wider = init_config(kInitModels.at("decoder_only_lm"), path, 1);
  wider.apply_override("model.d_ff=48");
  CHECK_THROWS_WITH(families::build_model(wider),
                    Catch::Contains("model.init_from") && Catch::Contains(path) &&
                        Catch::Contains("'decoder.layers.0.feed_forward.w_1.weight' has shape [32, 16], the model "
                                        "expects [48, 16]"));

  // Not a safetensors file at all.
  const auto yaml = (dir / "not_weights.yaml").string();
  std::ofstream(yaml) << "model: {name: decoder_only_lm}\n";
  auto not_safetensors = init_config(kInitModels.at("decoder_only_lm"), yaml, 1);
  CHECK_THROWS_WITH(families::build_model(not_safetensors),
                    Catch::Contains("model.init_from: safetensors file '" + yaml + "'") &&
                        Catch::Contains("is this a safetensors file?"));

  auto empty = init_config(kInitModels.at("decoder_only_lm"), "", 1);
  empty.apply_override("model.init_from=''");
  CHECK_THROWS_WITH(families::build_model(empty), Catch::Contains("--set model.init_from=''") &&
                                                     Catch::Contains("expected the path of a .safetensors file"));

  // Every model takes the key: a typo lists it.
  auto typo =
      Config::parse("model: {" + kInitModels.at("vision_transformer") + ", init_fro: x.safetensors}\n", "typo.yaml");
  CHECK_THROWS_WITH(families::build_model(typo), Catch::Contains("model.init_fro: unknown key") &&
                                                    Catch::Contains("init_from") &&
                                                    Catch::Contains("did you mean 'init_from'?"));
}

TEST_CASE("model.init_from resamples a ViT's position embedding to the model's grid", "[configs][init_from]") {
  const auto dir = testing::fresh_dir("init_from_vit_grid");
  const auto path = (dir / "vit8.safetensors").string();
  const auto saved = init_export("vision_transformer", path);  // img 8, patch 4: a 2x2 grid

  auto config = init_config(kInitModels.at("vision_transformer"), path, 1);
  config.apply_override("model.img_size=12");  // a 3x3 grid
  auto model = families::build_model(config);
  const auto state = train::module_state(*model);
  for (size_t i = 0; i < state.size(); ++i) {
    INFO(state[i].first);
    if (state[i].first == "pos_embed") {
      CHECK(state[i].second.sizes() == torch::IntArrayRef{1, 10, 16});
      CHECK(torch::allclose(state[i].second, models::resample_abs_pos_embed(saved[i].second, {3, 3}, {2, 2})));
    } else {
      CHECK(torch::equal(state[i].second, saved[i].second));
    }
  }
}
