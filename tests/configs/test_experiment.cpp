#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <filesystem>

#include "../support/tiny_bert.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/configs/registries.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/families/registry.h"
#include "torchzoo/models/encoder_decoder.h"

using namespace torchzoo;
using configs::Config;

namespace {

std::string preset(const std::string& name) { return std::string(TORCHZOO_SOURCE_DIR) + "/configs/" + name; }

// Translation, text classification and language model presets read a corpus
// made by `torchzoo data prepare`, which a clean clone does not have. Where it
// is missing, the preset is built on a small fixture instead (50 sentence
// pairs; 100 labelled sentences; 50 sentences), with a vocabulary that fixture
// can fill; the model shape, loss,
// optimizer, schedule and training options stay the preset's.
// Returns whether the data was swapped.
bool use_fixture_if_corpus_missing(Config& config, const std::filesystem::path& scratch) {
  const auto name = config.section("data").get("name", "");
  if (name != "translation" && name != "text_classification" && name != "language_model") return false;
  if (std::filesystem::exists(config.section("data").require<std::string>("train"))) return false;
  std::filesystem::create_directories(scratch);
  if (name == "language_model") {
    const std::string fixture = "tests/data/fixtures/tiny_en.txt";
    for (const auto& assignment :
         {"data.train=" + fixture, "data.valid=" + fixture, std::string("model.vocab=48"),
          std::string("data.tokenizer.vocab_size=48"), "data.tokenizer.prefix=" + (scratch / "spm").string()}) {
      config.apply_override(assignment);
    }
    return true;
  }
  if (name == "text_classification" && config.section("model").get("name", "") == "bert_classifier") {
    // A pretrained BERT folder is made by `data prepare minilm`: a tiny one of the same format instead.
    const std::string fixture = "tests/data/fixtures/tiny_langid_";
    const auto bert = torchzoo::testing::write_tiny_bert(scratch / "tiny_bert");
    for (const auto& assignment : {"data.train=" + fixture + "train.tsv", "data.valid=" + fixture + "valid.tsv",
                                   "data.test=" + fixture + "valid.tsv", std::string("model.num_classes=5"),
                                   std::string("data.max_tokens=30"), "model.init_from=" + bert.string()}) {
      config.apply_override(assignment);
    }
    return true;
  }
  if (name == "text_classification") {
    const std::string fixture = "tests/data/fixtures/tiny_langid_";
    for (const auto& assignment :
         {"data.train=" + fixture + "train.tsv", "data.valid=" + fixture + "valid.tsv",
          "data.test=" + fixture + "valid.tsv", std::string("model.vocab=128"), std::string("model.num_classes=5"),
          std::string("data.tokenizer.vocab_size=128"), "data.tokenizer.prefix=" + (scratch / "spm").string()}) {
      config.apply_override(assignment);
    }
    return true;
  }
  const std::string fixture = "tests/data/fixtures/tiny_en_de.tsv";
  for (const auto& assignment :
       {"data.train=" + fixture, "data.valid=" + fixture, "data.test=" + fixture, std::string("model.src_vocab=96"),
        std::string("model.tgt_vocab=96"), std::string("data.tokenizer.vocab_size=96"),
        "data.tokenizer.prefix=" + (scratch / "spm").string()}) {
    config.apply_override(assignment);
  }
  return true;
}

}  // namespace

TEST_CASE("The copy_task preset builds the reference model and recipe", "[experiment]") {
  auto config = Config::load(preset("copy_task.yaml"));
  config.apply_override("train.device=cpu");
  auto experiment = families::build_experiment(config);
  auto model = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(experiment.model);
  REQUIRE(model);
  REQUIRE(model->options.num_layers() == 2);
  REQUIRE(model->options.d_model() == 512);
  REQUIRE(model->options.d_ff() == 2048);
  REQUIRE(model->options.num_heads() == 8);
  REQUIRE(experiment.task->batches_per_epoch() == 20);
  REQUIRE(experiment.trainer.epochs() == 20);
  REQUIRE(experiment.scheduler->schedule().describe() == "noam(model_size=512, factor=1, warmup=400)");
  // lr before the first step: 0.5 * 512^-0.5 * 1 * 400^-1.5 (step 0 counted as 1).
  REQUIRE(experiment.scheduler->current_lr() == Approx(0.5 * std::pow(512.0, -0.5) * std::pow(400.0, -1.5)));
  auto& adam = dynamic_cast<torch::optim::AdamOptions&>(experiment.optimizer->param_groups()[0].options());
  REQUIRE(std::get<0>(adam.betas()) == 0.9);
  REQUIRE(std::get<1>(adam.betas()) == 0.98);
  REQUIRE(adam.eps() == 1e-9);
}

TEST_CASE("Every preset in configs/ builds", "[experiment]") {
  int presets = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(TORCHZOO_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    ++presets;
    INFO(entry.path().string());
    auto config = Config::load(entry.path().string());
    config.apply_override("train.device=cpu");
    use_fixture_if_corpus_missing(
        config, std::filesystem::temp_directory_path() / ("torchzoo_preset_" + entry.path().stem().string()));
    REQUIRE_NOTHROW(families::build_experiment(config));
  }
  CHECK(presets >= 4);
}

TEST_CASE("The translation_en_de preset builds its model and recipe", "[experiment][translation]") {
  auto config = Config::load(preset("translation_en_de.yaml"));
  config.apply_override("train.device=cpu");
  const bool swapped = use_fixture_if_corpus_missing(
      config, std::filesystem::temp_directory_path() / "torchzoo_preset_translation_en_de_recipe");
  auto experiment = families::build_experiment(config);
  auto model = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(experiment.model);
  REQUIRE(model);
  REQUIRE(model->options.num_layers() == 3);
  REQUIRE(model->options.d_model() == 256);
  REQUIRE(model->options.d_ff() == 1024);
  REQUIRE(model->options.num_heads() == 4);
  REQUIRE(model->options.share_embeddings());
  REQUIRE(model->options.tie_generator());
  REQUIRE(model->options.src_vocab() == (swapped ? 96 : 8000));
  REQUIRE(experiment.scheduler->schedule().describe().rfind("noam(model_size=256", 0) == 0);
}

TEST_CASE("Config errors name the file, line, key and what is allowed", "[experiment][errors]") {
  const std::string text =
      "model:\n"
      "  name: encoder_decoder\n"
      "  src_vocab: 11\n"
      "  tgt_vocab: 11\n"
      "  d_modl: 64\n"
      "data: {name: copy_task}\n"
      "optimizer: {name: adam}\n"
      "loss: {name: label_smoothing}\n"
      "train: {device: cpu}\n";
  auto config = Config::parse(text, "typo.yaml");
  REQUIRE_THROWS_AS(families::build_experiment(config), configs::ConfigError);
  auto again = Config::parse(text, "typo.yaml");
  REQUIRE_THROWS_WITH(families::build_experiment(again), Catch::Contains("typo.yaml:5:3: model.d_modl: unknown key") &&
                                                            Catch::Contains("d_model") && Catch::Contains("num_heads"));
}

TEST_CASE("Unknown registry names list what is registered", "[experiment][errors]") {
  auto config = Config::parse("model: {name: transformr, src_vocab: 11, tgt_vocab: 11}\n", "bad.yaml");
  REQUIRE_THROWS_WITH(families::build_model(config),
                      Catch::Contains("bad.yaml:1:15: model.name: unknown model 'transformr'; registered: "
                                      "bert_classifier, decoder_only_lm, encoder_decoder"));
  auto optimizer = Config::parse(
      "model: {name: encoder_decoder, src_vocab: 11, tgt_vocab: 11, num_layers: 1, d_model: 16, d_ff: 16, "
      "num_heads: 2}\ndata: {name: copy_task}\nloss: {name: nll}\noptimizer: {name: adamm}\ntrain: {device: cpu}\n",
      "opt.yaml");
  REQUIRE_THROWS_WITH(families::build_experiment(optimizer),
                      Catch::Contains("optimizer.name: unknown optimizer 'adamm'; registered: adam, adamw, sgd"));
}

TEST_CASE("Values are checked against the model", "[experiment][errors]") {
  auto heads = Config::parse(
      "model: {name: encoder_decoder, src_vocab: 11, tgt_vocab: 11, d_model: 64, num_heads: 5}\n", "heads.yaml");
  REQUIRE_THROWS_WITH(families::build_model(heads), Catch::Contains("model.num_heads: must divide d_model=64, got 5"));
  auto wrong_type = Config::parse("model: {name: encoder_decoder, src_vocab: eleven, tgt_vocab: 11}\n", "type.yaml");
  REQUIRE_THROWS_WITH(families::build_model(wrong_type), Catch::Contains("type.yaml:1:43: model.src_vocab"));
  auto missing = Config::parse("model: {name: encoder_decoder, src_vocab: 11}\n", "missing.yaml");
  REQUIRE_THROWS_WITH(families::build_model(missing), Catch::Contains("model.tgt_vocab: missing required key"));
}

TEST_CASE("An unknown top-level section is rejected", "[experiment][errors]") {
  auto config = Config::load(preset("copy_task_tiny.yaml"));
  config.apply_override("trainer.epochs=3");
  REQUIRE_THROWS_WITH(families::build_experiment(config), Catch::Contains("--set trainer.epochs=3") &&
                                                             Catch::Contains("trainer: unknown key") &&
                                                             Catch::Contains("optimizer"));
}

TEST_CASE("Registries are filled once and list their builders", "[registry]") {
  REQUIRE(families::model_registry().names() ==
          std::vector<std::string>{"bert_classifier", "decoder_only_lm", "encoder_decoder",
                                   "transformer_encoder_classifier", "vision_transformer"});
  REQUIRE(configs::scheduler_registry().contains("noam"));
  REQUIRE(configs::scheduler_registry().contains("warmup_cosine"));
  REQUIRE(configs::loss_registry().contains("label_smoothing"));
  REQUIRE(configs::loss_registry().contains("cross_entropy"));
  REQUIRE(families::task_registry().contains("copy_task"));
  REQUIRE(families::task_registry().contains("fashion_mnist"));
  REQUIRE(families::task_registry().contains("mnist"));
  REQUIRE(families::task_registry().contains("text_classification"));
}

TEST_CASE("Image-classification configs are checked against the model and the data", "[experiment][errors]") {
  const auto tiny = preset("vit_fashion_mnist_tiny.yaml");
  {
    auto config = Config::load(tiny);
    config.apply_override("model.num_classes=7");
    REQUIRE_THROWS_WITH(families::build_experiment(config),
                        Catch::Contains("the data has 10 classes but model.num_classes is 7"));
  }
  {
    auto config = Config::load(tiny);
    config.apply_override("data.root=/nonexistent");
    REQUIRE_THROWS_WITH(families::build_experiment(config),
                        Catch::Contains("data.root") && Catch::Contains("/nonexistent/train-images-idx3-ubyte"));
  }
  {
    auto config = Config::load(tiny);
    config.apply_override("model.img_size=35");
    REQUIRE_THROWS_WITH(families::build_experiment(config),
                        Catch::Contains("the images are [1, 28, 28] but the model takes [1, 35, 35]"));
  }
  {
    auto config = Config::load(tiny);
    config.apply_override("model.preset=vit_giant");
    REQUIRE_THROWS_WITH(families::build_experiment(config),
                        Catch::Contains("model.preset") && Catch::Contains("known: vit_tiny, vit_small, vit_mini"));
  }
  {
    auto config = Config::load(preset("copy_task_tiny.yaml"));
    config.apply_override("data.name=fashion_mnist");
    REQUIRE_THROWS_WITH(families::build_experiment(config),
                        Catch::Contains("trains an image classifier (model.name: vision_transformer)"));
  }
}

TEST_CASE("Noam's model_size defaults to the built model's width, whichever key or default set it",
          "[experiment][scheduler]") {
  // The language model's width comes from its Options default (256): no d_model key at all.
  auto lm = Config::load(preset("lm_tiny.yaml"));
  lm.apply_override("model.d_model=null");
  lm.apply_override("data.tokenizer.prefix='" +
                    (std::filesystem::temp_directory_path() / "torchzoo_noam_width_spm").string() + "'");
  lm.apply_override("scheduler={name: noam, warmup: 10}");
  auto lm_experiment = families::build_experiment(lm);
  CHECK(lm_experiment.scheduler->schedule().describe() == "noam(model_size=256, factor=1, warmup=10)");

  // A ViT has no d_model: its width is embed_dim (64 in the tiny preset).
  const auto vit_schedule = [](const std::string& scheduler) {
    auto vit = Config::load(preset("vit_fashion_mnist_tiny.yaml"));
    vit.apply_override("scheduler=" + scheduler);
    return families::build_experiment(vit).scheduler->schedule().describe();
  };
  CHECK(vit_schedule("{name: noam, warmup: 10}") == "noam(model_size=64, factor=1, warmup=10)");
  // An explicit scheduler.model_size still wins.
  CHECK(vit_schedule("{name: noam, warmup: 10, model_size: 100}") == "noam(model_size=100, factor=1, warmup=10)");
}
