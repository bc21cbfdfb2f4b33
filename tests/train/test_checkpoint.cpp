#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../support/temp_dir.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/checkpoint.h"

using namespace torchzoo;
using testing::fresh_dir;
namespace fs = std::filesystem;

namespace {

models::EncoderDecoder small_model() {
  return models::EncoderDecoder(
      models::EncoderDecoderOptions(11, 11).num_layers(1).d_model(16).d_ff(32).num_heads(2).dropout(0.0));
}

torch::Tensor run(models::EncoderDecoder& model) {
  auto src = torch::tensor({{1, 4, 5, 6}, {1, 2, 3, 0}}, torch::kLong);
  auto src_mask = src.ne(0).unsqueeze(-2);
  auto tgt_mask = torch::ones({1, 4, 4}, torch::kBool).tril();
  torch::NoGradGuard no_grad;
  return model->generator(model(src, src, src_mask, tgt_mask));
}

}  // namespace

TEST_CASE("A checkpoint round trip restores weights, optimizer state and counters", "[checkpoint]") {
  auto dir = fresh_dir("roundtrip");
  torch::manual_seed(3);
  auto model = small_model();
  model->eval();
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  (run(model).sum() * 0 + model->generator->proj->weight.sum()).backward();
  adam.step();
  const auto path = (dir / "ckpt.pt").string();
  train::save_checkpoint(path, *model, &adam, train::CheckpointState{7, 2, "model: {name: encoder_decoder}\n"});

  torch::manual_seed(4);
  auto other = small_model();
  other->eval();
  REQUIRE_FALSE(torch::equal(run(model), run(other)));
  torch::optim::Adam other_adam(other->parameters(), torch::optim::AdamOptions(1e-3));
  auto state = train::load_checkpoint(path, *other, &other_adam);
  REQUIRE(torch::equal(run(model), run(other)));
  REQUIRE(state.step == 7);
  REQUIRE(state.epoch == 2);
  REQUIRE(state.config == "model: {name: encoder_decoder}\n");
  REQUIRE(train::read_checkpoint_state(path).step == 7);
  // Adam's step count and moments came back too.
  auto& restored = static_cast<torch::optim::AdamParamState&>(
      *other_adam.state().at(other->generator->proj->weight.unsafeGetTensorImpl()));
  REQUIRE(restored.step() == 1);
  REQUIRE(restored.exp_avg().abs().sum().item<double>() > 0);

  // Written atomically: only the final file is left in the folder.
  REQUIRE(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}

TEST_CASE("Loading a checkpoint reports missing, foreign and mismatched files", "[checkpoint][errors]") {
  auto dir = fresh_dir("errors");
  auto model = small_model();
  REQUIRE_THROWS_WITH(train::load_checkpoint((dir / "missing.pt").string(), *model),
                      Catch::Contains("missing.pt' does not exist"));
  const auto junk = (dir / "junk.pt").string();
  std::ofstream(junk) << "not a checkpoint";
  REQUIRE_THROWS_WITH(train::load_checkpoint(junk, *model), Catch::Contains("is not a torchzoo checkpoint"));

  const auto path = (dir / "weights.pt").string();
  train::save_checkpoint(path, *model, nullptr, train::CheckpointState{});
  models::EncoderDecoder wider(models::EncoderDecoderOptions(11, 11).num_layers(1).d_model(32).d_ff(32).num_heads(2));
  REQUIRE_THROWS_WITH(train::load_checkpoint(path, *wider), Catch::Contains("does not fit this model"));
  torch::optim::Adam adam(model->parameters());
  REQUIRE_THROWS_WITH(train::load_checkpoint(path, *model, &adam), Catch::Contains("has no optimizer state"));
  fs::remove_all(dir);
}

TEST_CASE("A checkpoint whose weights hold a NaN is refused on load, naming the tensor", "[checkpoint][faults]") {
  auto dir = fresh_dir("nan_weights");
  auto model = small_model();
  {
    torch::NoGradGuard no_grad;
    model->generator->proj->weight[0][0] = std::nan("");
  }
  const auto path = (dir / "nan.pt").string();
  train::save_checkpoint(path, *model, nullptr, train::CheckpointState{});  // saving is the trainer's to refuse
  auto other = small_model();
  CHECK_THROWS_WITH(train::load_checkpoint(path, *other),
                    Catch::Contains(path) && Catch::Contains("inf or NaN") && Catch::Contains("generator.proj.weight"));
}

TEST_CASE("Checkpoints carry a checksum per tensor and value, checked on every load", "[checkpoint][faults]") {
  auto dir = fresh_dir("checksums");
  auto model = small_model();
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  const auto path = (dir / "ckpt.pt").string();
  train::save_checkpoint(path, *model, &adam, train::CheckpointState{});
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  c10::IValue sums;
  REQUIRE(archive.try_read("checksums", sums));
  REQUIRE(sums.isGenericDict());
  const auto table = sums.toGenericDict();
  CHECK(table.contains("model/generator/proj/weight"));
  CHECK(table.contains("config"));
  CHECK(table.contains("rng_state"));
  // The optimizer's tensors too: one entry per model tensor at least, plus the state.
  CHECK(table.size() > model->named_parameters().size());
  auto loaded = small_model();
  torch::optim::Adam loaded_adam(loaded->parameters(), torch::optim::AdamOptions(1e-3));
  CHECK_NOTHROW(train::load_checkpoint(path, *loaded, &loaded_adam));
}

TEST_CASE("A checkpoint with damaged TorchScript code is refused before LibTorch compiles it", "[checkpoint][faults]") {
  // Found by fuzz/checkpoint_fuzzer.cpp: LibTorch's reader checks no zip CRC, and damaged code
  // cost it minutes and gigabytes. libzip checks every member but the tensor records first.
  auto dir = fresh_dir("damaged_code");
  auto model = small_model();
  const auto path = (dir / "ckpt.pt").string();
  train::save_checkpoint(path, *model, nullptr, train::CheckpointState{});
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const auto at = bytes.find("class ");  // in a code member stored uncompressed
  REQUIRE(at != std::string::npos);
  bytes.replace(at, 6, "clasz ");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto loaded = small_model();
  REQUIRE_THROWS_WITH(train::load_checkpoint(path, *loaded),
                      Catch::Contains("checkpoint '" + path + "' is corrupted: its member 'archive/code/") &&
                          Catch::Contains("fails its zip check (CRC error)"));
  REQUIRE_THROWS_WITH(train::read_checkpoint_state(path), Catch::Contains("zip check"));
}

TEST_CASE("Checkpoint values of the wrong type or sign are refused, naming the key and the file",
          "[checkpoint][faults]") {
  auto dir = fresh_dir("typed_state");
  const auto write = [&](const std::string& name, c10::IValue step) {
    torch::serialize::OutputArchive archive;
    archive.write("torchzoo_checkpoint_version", c10::IValue(int64_t{1}));
    archive.write("step", step);
    archive.write("epoch", c10::IValue(int64_t{0}));
    archive.write("config", c10::IValue(std::string("model: {}\n")));
    const auto path = (dir / name).string();
    archive.save_to(path);
    return path;
  };
  const auto text = write("text.pt", c10::IValue(std::string("seven")));
  REQUIRE_THROWS_WITH(train::read_checkpoint_state(text),
                      Catch::Contains("checkpoint '" + text +
                                      "' cannot be used: 'step' is String, expected an integer"));
  const auto negative = write("negative.pt", c10::IValue(int64_t{-3}));
  REQUIRE_THROWS_WITH(train::read_checkpoint_state(negative),
                      Catch::Contains("'step' is -3, expected a count (0 or more)"));
  CHECK(train::read_checkpoint_state(write("good.pt", c10::IValue(int64_t{7}))).step == 7);
}

TEST_CASE("Loading a weights-only checkpoint with an optimizer names the file", "[checkpoint][faults]") {
  auto dir = fresh_dir("weights_only");
  auto model = small_model();
  const auto path = (dir / "weights.pt").string();
  train::save_checkpoint(path, *model, nullptr, train::CheckpointState{});
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  REQUIRE_THROWS_WITH(train::load_checkpoint(path, *model, &adam),
                      Catch::Contains("checkpoint '" + path + "' has no optimizer state"));
}
