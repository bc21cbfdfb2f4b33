#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>

#include "../support/learning.h"
#include "../support/temp_dir.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/families/registry.h"
#include "torchzoo/data/masks.h"
#include "torchzoo/layers/int8_inference.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/decode/beam_search.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/trainer.h"
#include "torchzoo/train/tasks/translation_task.h"

using namespace torchzoo;
using testing::fresh_dir;
namespace fs = std::filesystem;

TEST_CASE("translation_tiny overfits 50 sentence pairs to BLEU > 90, and every decoder agrees",
          "[translation][trainer][learning]") {
  const auto start = std::chrono::steady_clock::now();
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/translation_tiny.yaml");
  auto out_dir = fresh_dir("translation_tiny");
  config.apply_override("train.out_dir='" + out_dir.string() + "'");
  config.apply_override("data.tokenizer.prefix='" + (out_dir / "spm").string() + "'");
  testing::apply_train_seed(config);
  auto experiment = families::build_experiment(config);
  train::Trainer trainer(experiment.trainer, *experiment.task, *experiment.optimizer, *experiment.scheduler);
  trainer.print = [](const std::string&) {};
  auto result = trainer.fit();
  INFO("valid bleu " << result.eval.at("bleu") << ", loss " << result.eval.at("loss"));
  REQUIRE(result.eval.at("bleu") > 90.0);
  CHECK_NO_HANG(testing::seconds_since(start), 20.0);
  REQUIRE(fs::exists(out_dir / "best.pt"));
  REQUIRE(fs::exists(out_dir / "spm.model"));

  auto& task = dynamic_cast<train::TranslationTask&>(*experiment.task);
  std::vector<std::string> sources;
  for (const auto& pair : task.valid_data().text) sources.push_back(pair.src);
  auto& translator = task.translator();
  const auto greedy = translator.translate(sources, train::TranslatorOptions());
  const auto uncached = translator.translate(sources, train::TranslatorOptions().use_cache(false));
  const auto beam1 = translator.translate(sources, train::TranslatorOptions().beam_size(1).batch_size(7));
  const auto beam4 = translator.translate(sources, train::TranslatorOptions().beam_size(4));
  // Exact equality of decoders that compute the same argmax through different shapes (and so
  // different float rounding): it holds because a trained model's top two logits are far apart,
  // on every kernel path of tests/learning_sweep.py; an untrained model could tie.
  REQUIRE(uncached == greedy);
  REQUIRE(beam1 == greedy);
  int64_t beam_exact = 0;
  for (size_t i = 0; i < sources.size(); ++i) beam_exact += beam4[i] == task.valid_data().text[i].tgt;
  INFO("beam 4 reproduces " << beam_exact << " of " << sources.size() << " references");
  REQUIRE(beam_exact >= 45);
  // Int8 linears (dynamic quantization) keep what the model learned.
  REQUIRE(layers::set_int8_inference(*experiment.model, true) > 0);
  const auto int8 = translator.translate(sources, train::TranslatorOptions());
  layers::set_int8_inference(*experiment.model, false);
  int64_t int8_same = 0;
  for (size_t i = 0; i < sources.size(); ++i) int8_same += int8[i] == greedy[i];
  INFO("int8 greedy equals float32 greedy on " << int8_same << " of " << sources.size() << " sentences");
  REQUIRE(int8_same >= 40);
  REQUIRE(translator.translate(sources, train::TranslatorOptions()) == greedy);
  // Blank lines translate to blank lines, and the order of the input is kept.
  auto mixed = translator.translate({"", sources[3], "   ", sources[0]}, train::TranslatorOptions());
  REQUIRE(mixed == std::vector<std::string>{"", greedy[3], "", greedy[0]});
  fs::remove_all(out_dir);
}

TEST_CASE("A translation config rejects a vocabulary that differs from the model's", "[translation][errors]") {
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/translation_tiny.yaml");
  auto out_dir = fresh_dir("translation_vocab");
  config.apply_override("data.tokenizer.prefix='" + (out_dir / "spm").string() + "'");
  config.apply_override("data.tokenizer.vocab_size=100");
  REQUIRE_THROWS_WITH(families::build_experiment(config),
                      Catch::Contains("data.tokenizer.vocab_size") && Catch::Contains("must equal model.src_vocab"));
  REQUIRE_FALSE(fs::exists(out_dir / "spm.model"));
  fs::remove_all(out_dir);
}

TEST_CASE("Greedy decoding and beam search stop each sentence at the same maximum length",
          "[translation][beam_search]") {
  // An untrained model rarely ends a sentence, so most outputs run to their limit.
  torch::manual_seed(3);
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/translation_tiny.yaml");
  auto out_dir = fresh_dir("translation_max_len");
  config.apply_override("data.tokenizer.prefix='" + (out_dir / "spm").string() + "'");
  auto experiment = families::build_experiment(config);
  auto& task = dynamic_cast<train::TranslationTask&>(*experiment.task);
  auto& translator = task.translator();
  {
    // A trained model never predicts padding (its targets never hold it); beam search forbids it,
    // greedy decoding does not, so this untrained one is kept from it the trained way.
    torch::NoGradGuard no_grad;
    auto model = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(experiment.model);
    model->generator->proj->bias[translator.tgt_tokenizer().pad_id()].fill_(-1e4);
  }
  std::vector<std::vector<int64_t>> sources;
  for (const auto& pair : task.valid_data().text) sources.push_back(translator.encode_source(pair.src, 256));

  const auto options = train::TranslatorOptions().max_len_a(0.5).max_len_b(3);
  const auto greedy = translator.translate_ids(sources, options);
  const auto one_by_one = translator.translate_ids(sources, train::TranslatorOptions(options).batch_size(1));
  REQUIRE(one_by_one == greedy);

  // Batches of at most 40 source tokens, padding counted: the same outputs; each batch's rows times
  // its longest source (sources go longest first) stay within the budget, or the batch is one sentence.
  std::vector<size_t> lengths;
  for (const auto& ids : sources) lengths.push_back(ids.size());
  std::stable_sort(lengths.begin(), lengths.end(), std::greater<>());
  std::vector<int64_t> batch_ends;
  const auto by_tokens =
      translator.translate_ids(sources, train::TranslatorOptions(options).batch_size(40).batch_by_tokens(true),
                               [&](int64_t done, int64_t) { batch_ends.push_back(done); });
  REQUIRE(by_tokens == greedy);
  REQUIRE(batch_ends.size() > 1);
  REQUIRE(batch_ends.back() == static_cast<int64_t>(sources.size()));
  for (size_t k = 0, begin = 0; k < batch_ends.size(); begin = static_cast<size_t>(batch_ends[k++])) {
    const auto rows = static_cast<size_t>(batch_ends[k]) - begin;
    INFO("batch " << k << ": " << rows << " sentences of at most " << lengths[begin] << " tokens");
    REQUIRE(rows >= 1);
    REQUIRE((rows == 1 || rows * lengths[begin] <= 40));
    if (static_cast<size_t>(batch_ends[k]) < lengths.size()) REQUIRE((rows + 1) * lengths[begin] > 40);  // full
  }

  // Beam search with one beam, all sources in one padded batch, gives the same outputs.
  const auto& tokenizer = translator.tgt_tokenizer();
  const int64_t pad = tokenizer.pad_id();
  size_t longest = 0;
  for (const auto& ids : sources) longest = std::max(longest, ids.size());
  auto src = torch::full({static_cast<int64_t>(sources.size()), static_cast<int64_t>(longest)}, pad, torch::kLong);
  for (size_t i = 0; i < sources.size(); ++i) {
    src[static_cast<int64_t>(i)].narrow(0, 0, static_cast<int64_t>(sources[i].size())).copy_(torch::tensor(sources[i]));
  }
  auto model = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(experiment.model);
  const auto beam1 = train::beam_search(*model, src, data::padding_mask(src, pad),
                                        train::BeamSearchOptions(tokenizer.bos_id(), tokenizer.eos_id())
                                            .beam_size(1)
                                            .pad(pad)
                                            .max_len_a(0.5)
                                            .max_len_b(3));
  for (size_t i = 0; i < sources.size(); ++i) REQUIRE(beam1[i].front().tokens == greedy[i]);
  int64_t at_limit = 0;
  for (size_t i = 0; i < sources.size(); ++i) {
    const auto limit = train::max_output_length(static_cast<int64_t>(sources[i].size()), 0.5, 3, 256);
    INFO("sentence " << i << ": " << sources[i].size() << " source tokens, limit " << limit);
    REQUIRE(static_cast<int64_t>(greedy[i].size()) <= limit);
    at_limit += static_cast<int64_t>(greedy[i].size()) == limit;
  }
  INFO(at_limit << " of " << sources.size() << " outputs reach their limit");
  REQUIRE(at_limit >= 10);
  fs::remove_all(out_dir);
}

TEST_CASE("model.norm picks the annotated LayerNorm or torch's", "[translation][configs]") {
  auto out_dir = fresh_dir("translation_norm");
  for (const std::string norm : {"annotated", "layer_norm"}) {
    auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/translation_tiny.yaml");
    config.apply_override("data.tokenizer.prefix='" + (out_dir / "spm").string() + "'");
    config.apply_override("model.norm=" + norm);
    auto experiment = families::build_experiment(config);
    auto model = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(experiment.model);
    const auto& norm_options = model->encoder->norm->options;
    CHECK(norm_options.use_torch_layer_norm() == (norm == "layer_norm"));
  }
  auto config = configs::Config::load(std::string(TORCHZOO_SOURCE_DIR) + "/configs/translation_tiny.yaml");
  config.apply_override("data.tokenizer.prefix='" + (out_dir / "spm").string() + "'");
  config.apply_override("model.norm=rms");
  REQUIRE_THROWS_WITH(families::build_experiment(config),
                      Catch::Contains("model.norm") && Catch::Contains("annotated") && Catch::Contains("layer_norm"));
  fs::remove_all(out_dir);
}
