#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "../support/learning.h"
#include "../support/temp_dir.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/families/registry.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/tasks/image_classification_task.h"
#include "torchzoo/train/trainer.h"

using namespace torchzoo;
using testing::fresh_dir;
namespace fs = std::filesystem;

TEST_CASE("vit_fashion_mnist_tiny learns well above chance and keeps its best checkpoint",
          "[train][image_classification][learning]") {
  const auto start = std::chrono::steady_clock::now();
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/vit_fashion_mnist_tiny.yaml");
  auto out_dir = fresh_dir("vit_tiny");
  config.apply_override("train.out_dir='" + out_dir.string() + "'");
  config.apply_override("train.device=cpu");
  testing::apply_train_seed(config);
  auto experiment = families::build_experiment(config);
  train::Trainer trainer(experiment.trainer, *experiment.task, *experiment.optimizer, *experiment.scheduler);
  trainer.print = [](const std::string&) {};
  auto result = trainer.fit();
  INFO("valid accuracy " << result.eval.at("accuracy") << ", loss " << result.eval.at("loss"));
  // Ten balanced classes: chance is 0.10.
  REQUIRE(result.eval.at("accuracy") > 0.6);
  REQUIRE(result.best.has_value());
  CHECK(*result.best >= result.eval.at("accuracy"));
  CHECK(fs::exists(out_dir / "best.pt"));
  CHECK(train::read_checkpoint_state((out_dir / "best.pt").string()).epoch == result.best_epoch);

  // The confusion matrix in the report counts every validation image once.
  auto& task = dynamic_cast<train::ImageClassificationTask&>(*experiment.task);
  auto report = task.evaluate_on(task.valid_set());
  CHECK(report.confusion.sum().item<int64_t>() == task.valid_set().size());
  CHECK(report.accuracy == Approx(result.eval.at("accuracy")));
  std::ifstream csv(out_dir / "confusion_matrix.csv");
  std::string header;
  std::getline(csv, header);
  CHECK(header.rfind("true\\predicted,T-shirt/top,Trouser,", 0) == 0);
  CHECK(task.sample().find("8 Bag") != std::string::npos);

  auto probabilities = task.predict(task.test_set().images.slice(0, 0, 4));
  REQUIRE(probabilities.sizes() == torch::IntArrayRef({4, 10}));
  CHECK(torch::allclose(probabilities.sum(-1), torch::ones({4})));

  CHECK_NO_HANG(testing::seconds_since(start), 8.0);
  fs::remove_all(out_dir);
}

TEST_CASE("Training batches do not depend on the number of worker threads", "[train][image_classification]") {
  std::vector<double> losses;
  for (const auto* workers : {"0", "2"}) {
    auto c = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/vit_fashion_mnist_tiny.yaml");
    c.apply_override("data.crop_padding=2");
    c.apply_override("data.hflip=true");
    c.apply_override(std::string("data.workers=") + workers);
    auto model = families::build_family_model(c);
    auto task = model->build_task(c);
    torch::manual_seed(0);
    losses.push_back(task->train_loss(1, 3).loss.item<double>());
  }
  CHECK(losses[0] == losses[1]);
}

TEST_CASE("AutocastGuard runs matmuls in bf16 inside its scope only", "[train][autocast]") {
  auto a = torch::randn({4, 8});
  auto b = torch::randn({8, 3});
  {
    train::AutocastGuard guard(torch::kCPU, torch::kBFloat16);
    CHECK(torch::mm(a, b).scalar_type() == torch::kBFloat16);
    {
      train::AutocastGuard none(torch::kCPU, std::nullopt);
      CHECK(torch::mm(a, b).scalar_type() == torch::kBFloat16);
    }
  }
  CHECK(torch::mm(a, b).scalar_type() == torch::kFloat);
  CHECK(train::autocast_dtype_from_string("bf16") == torch::kBFloat16);
  CHECK_FALSE(train::autocast_dtype_from_string("none").has_value());
  REQUIRE_THROWS_WITH(train::autocast_dtype_from_string("fp8"), Catch::Contains("unknown autocast dtype 'fp8'"));
}
