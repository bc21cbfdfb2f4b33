#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

#include "../support/learning.h"
#include "../support/temp_dir.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/families/registry.h"
#include "torchzoo/train/tasks/language_model_task.h"
#include "torchzoo/train/trainer.h"

using namespace torchzoo;
using testing::fresh_dir;
namespace fs = std::filesystem;

TEST_CASE("lm_tiny's loss and perplexity fall within seconds", "[language_model][trainer][learning]") {
  const auto start = std::chrono::steady_clock::now();
  const auto out_dir = fresh_dir("lm_tiny");
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/lm_tiny.yaml");
  config.apply_override("train.out_dir='" + out_dir.string() + "'");
  config.apply_override("data.tokenizer.prefix='" + (out_dir / "spm").string() + "'");
  testing::apply_train_seed(config);
  auto experiment = families::build_experiment(config);
  auto& task = dynamic_cast<train::LanguageModelTask&>(*experiment.task);
  const auto before = task.evaluate();
  // An untrained model is about uniform over the vocabulary.
  CHECK(before.at("perplexity") > 20.0);
  train::Trainer trainer(experiment.trainer, task, *experiment.optimizer, *experiment.scheduler);
  trainer.print = [](const std::string&) {};
  auto result = trainer.fit();
  INFO("perplexity " << before.at("perplexity") << " -> " << result.eval.at("perplexity") << ", loss "
                     << before.at("loss") << " -> " << result.eval.at("loss"));
  // 50 short sentences of a dozen words: the model learns their frequent words and patterns.
  REQUIRE(result.eval.at("perplexity") < 0.25 * before.at("perplexity"));
  REQUIRE(result.eval.at("loss") < before.at("loss") - 1.0);
  CHECK_NO_HANG(testing::seconds_since(start), 3.0);
  // With label smoothing 0, the loss per token is the mean negative log-likelihood.
  CHECK(std::exp(result.eval.at("loss")) == Approx(result.eval.at("perplexity")).epsilon(1e-4));
  CHECK_THAT(task.sample(), Catch::Contains("prompt: ") && Catch::Contains("greedy: "));
  fs::remove_all(out_dir);
}
