// bert_classifier in the text-classification family: built from a Hugging Face folder, fine-tuned,
// used for predictions; the configuration errors it reports.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <vector>

#include "../support/temp_dir.h"
#include "../support/tiny_bert.h"
#include "bert_files.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/configs/registries.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/models/bert.h"
#include "torchzoo/train/trainer.h"

using namespace torchzoo;
using configs::Config;

namespace {

const std::string kFixture = std::string(TORCHZOO_SOURCE_DIR) + "/tests/data/fixtures/tiny_langid_";

Config bert_config(const std::filesystem::path& bert, const std::string& extra_model = "",
                   const std::string& extra_data = "") {
  return Config::parse(fmt::format(R"(model: {{name: bert_classifier, init_from: '{}', num_classes: 5{}}}
data: {{name: text_classification, train: '{}train.tsv', valid: '{}valid.tsv', max_tokens: 30,
  batch_tokens: 512{}}}
loss: {{name: cross_entropy}}
optimizer: {{name: adamw, lr: 1.0e-3, no_decay: [1d], layer_decay: 0.5}}
scheduler: {{name: warmup_linear, warmup: 2, total_steps: 40}}
train: {{epochs: 20, max_steps: 40, seed: 3, log_every: 0, device: cpu, autocast: none}}
)",
                                   bert.string(), extra_model, kFixture, kFixture, extra_data),
                       "bert.yaml");
}

}  // namespace

TEST_CASE("bert_classifier starts from a Hugging Face folder's weights and fine-tunes", "[bert][classifier]") {
  const auto dir = testing::fresh_dir("bert_classifier");
  const auto bert = testing::write_tiny_bert(dir / "tiny_bert", /*seed=*/7);
  auto experiment = families::build_experiment(bert_config(bert));
  auto& model = dynamic_cast<models::BertClassifierImpl&>(*experiment.model);
  // The folder's weights, under torchzoo's names.
  const auto folder = train::read_safetensors((bert / "model.safetensors").string());
  CHECK(torch::equal(model.bert->embeddings->word_embeddings->weight, folder.at("embeddings.word_embeddings.weight")));
  CHECK(torch::equal(model.bert->named_parameters()["encoder.layers.1.self_attn.linears.2.weight"],
                     folder.at("encoder.layer.1.attention.self.value.weight")));
  // Layer-wise decay 0.5 over embeddings, 2 layers and the head: four rates, the head's the highest.
  // (The scheduler has already scaled every rate by its first warm-up multiplier.)
  std::vector<double> rates;
  for (auto& group : experiment.optimizer->param_groups()) rates.push_back(group.options().get_lr());
  const double highest = *std::max_element(rates.begin(), rates.end());
  std::set<int64_t> relative;  // in 1/1000 of the head's
  for (double rate : rates) relative.insert(std::llround(1000 * rate / highest));
  CHECK(relative == std::set<int64_t>{125, 250, 500, 1000});

  train::Trainer trainer(experiment.trainer.out_dir((dir / "run").string()), *experiment.task, *experiment.optimizer,
                         *experiment.scheduler);
  const auto result = trainer.fit();
  CHECK(result.steps == 40);
  CHECK(std::isfinite(result.train_loss));
  std::filesystem::remove_all(dir);
}

TEST_CASE("bert_classifier's configuration errors name the key", "[bert][classifier][errors]") {
  const auto dir = testing::fresh_dir("bert_classifier_errors");
  const auto bert = testing::write_tiny_bert(dir / "tiny_bert");
  REQUIRE_THROWS_WITH(families::build_experiment(bert_config(bert, ", hidden_size: 32")),
                      Catch::Contains("hidden_size") && Catch::Contains("is 16 in"));
  REQUIRE_THROWS_WITH(families::build_experiment(bert_config(dir / "nowhere")),
                      Catch::Contains("init_from") && Catch::Contains("nowhere"));
  auto no_tokenizer = Config::parse(
      fmt::format(
          "model: {{name: bert_classifier, num_classes: 5, vocab_size: 57, hidden_size: 16, num_hidden_layers: 1, "
          "num_attention_heads: 2, intermediate_size: 32}}\ndata: {{name: text_classification, train: '{}train.tsv', "
          "valid: '{}valid.tsv'}}\noptimizer: {{name: adamw, lr: 1.0e-3}}\ntrain: {{device: cpu}}\n",
          kFixture, kFixture),
      "bert.yaml");
  REQUIRE_THROWS_WITH(families::build_experiment(no_tokenizer),
                      Catch::Contains("data.wordpiece") || Catch::Contains("wordpiece"));
  std::filesystem::remove_all(dir / "tiny_bert" / "model.safetensors");
  REQUIRE_THROWS_WITH(families::build_experiment(bert_config(bert)), Catch::Contains("model.safetensors"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("bert_classifier from all-MiniLM-L6-v2 classifies after a short fine-tuning", "[bert][classifier]") {
  if (!testing::minilm_or_skip()) return;
  const auto dir = testing::fresh_dir("bert_classifier_minilm");
  auto config = bert_config(testing::minilm_dir());
  config.apply_override("train.max_steps=40");
  config.apply_override("scheduler.total_steps=40");
  auto experiment = families::build_experiment(config);
  train::Trainer trainer(experiment.trainer.out_dir((dir / "run").string()), *experiment.task, *experiment.optimizer,
                         *experiment.scheduler);
  const auto result = trainer.fit();
  // Languages are easy for a pretrained encoder: well above the 0.2 of chance after 40 steps.
  INFO("valid accuracy " << result.eval.at("accuracy"));
  CHECK(result.eval.at("accuracy") >= 0.7);
  std::filesystem::remove_all(dir);
}
