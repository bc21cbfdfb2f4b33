// The model registry sweep (as timm's test_models.py): every registered model, built from a small
// config, runs forward and backward, saves and loads, and exports to TorchScript and safetensors;
// the exported files reproduce its outputs in C++ and, through tests/reference/check_export.py, in
// Python. A model registered without a case here fails the sweep.
#include <torch/script.h>
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "../support/temp_dir.h"
#include "torchzoo/configs/config.h"
#include "torchzoo/configs/registries.h"
#include "torchzoo/data/masks.h"
#include "torchzoo/families/experiment.h"
#include "torchzoo/families/registry.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/models/bert.h"
#include "torchzoo/models/models.h"
#include "torchzoo/train/checkpoint.h"
#include "torchzoo/train/export/safetensors.h"
#include "torchzoo/train/export/torchscript_export.h"

using namespace torchzoo;
namespace fs = std::filesystem;

namespace {

using Inputs = std::vector<c10::IValue>;

/// One registered model: a small model section, inputs of a given batch size and length, its
/// forward output (what the exported `forward` returns) and a loss that reaches every parameter.
struct SweepCase {
  std::string model_yaml;
  std::function<Inputs(int64_t batch, int64_t length)> inputs;
  std::function<torch::Tensor(torch::nn::Module&, const Inputs&)> forward;
  std::function<torch::Tensor(torch::nn::Module&, const Inputs&)> loss;
};

constexpr int64_t sweep_vocab = 17;
constexpr int64_t sweep_pad = 0;

torch::Tensor sweep_tokens(int64_t batch, int64_t length) {
  auto tokens = torch::randint(1, sweep_vocab, {batch, length}, torch::kLong);
  if (length > 2) tokens[0].narrow(0, length - 2, 2).fill_(sweep_pad);  // row 0 ends in padding
  return tokens;
}

const std::map<std::string, SweepCase>& sweep_cases() {
  static const std::map<std::string, SweepCase> cases = {
      {"encoder_decoder",
       {"{name: encoder_decoder, src_vocab: 17, tgt_vocab: 17, num_layers: 2, d_model: 32, d_ff: 64, num_heads: 4, "
        "share_embeddings: true, tie_generator: true}",
        [](int64_t batch, int64_t length) {
          auto src = sweep_tokens(batch, length);
          auto tgt = sweep_tokens(batch, length + 2);
          return Inputs{src, tgt, data::padding_mask(src, sweep_pad), data::causal_padding_mask(tgt, sweep_pad)};
        },
        [](torch::nn::Module& m, const Inputs& in) {
          return m.as<models::EncoderDecoderImpl>()->forward(in[0].toTensor(), in[1].toTensor(), in[2].toTensor(),
                                                             in[3].toTensor());  // [B, T_tgt, d_model]
        },
        [](torch::nn::Module& m, const Inputs& in) {
          auto& model = *m.as<models::EncoderDecoderImpl>();
          return model.generator(model.forward(in[0].toTensor(), in[1].toTensor(), in[2].toTensor(), in[3].toTensor()))
              .mean();
        }}},
      {"decoder_only_lm",
       {"{name: decoder_only_lm, vocab: 17, num_layers: 2, d_model: 32, d_ff: 64, num_heads: 4, max_len: 32}",
        [](int64_t batch, int64_t length) {
          auto tokens = sweep_tokens(batch, length);
          return Inputs{tokens, data::causal_padding_mask(tokens, sweep_pad)};
        },
        [](torch::nn::Module& m, const Inputs& in) {
          return m.as<models::DecoderOnlyLMImpl>()->forward(in[0].toTensor(), in[1].toTensor());  // [B, T, d_model]
        },
        [](torch::nn::Module& m, const Inputs& in) {
          auto& model = *m.as<models::DecoderOnlyLMImpl>();
          return model.generator(model.forward(in[0].toTensor(), in[1].toTensor())).mean();
        }}},
      {"bert_classifier",
       {"{name: bert_classifier, num_classes: 3, vocab_size: 17, hidden_size: 32, num_hidden_layers: 2, "
        "num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 32}",
        [](int64_t batch, int64_t length) {
          auto tokens = sweep_tokens(batch, length);
          return Inputs{tokens, data::padding_mask(tokens, sweep_pad)};
        },
        [](torch::nn::Module& m, const Inputs& in) {
          return m.as<models::BertClassifierImpl>()->forward(in[0].toTensor(), in[1].toTensor());  // [B, 3]
        },
        [](torch::nn::Module& m, const Inputs& in) {
          return m.as<models::BertClassifierImpl>()->forward(in[0].toTensor(), in[1].toTensor()).mean();
        }}},
      {"transformer_encoder_classifier",
       {"{name: transformer_encoder_classifier, vocab: 17, num_classes: 3, num_layers: 2, d_model: 32, d_ff: 64, "
        "num_heads: 4, max_len: 32, pooling: mean, positions: learned}",
        [](int64_t batch, int64_t length) {
          auto tokens = sweep_tokens(batch, length);
          return Inputs{tokens, data::padding_mask(tokens, sweep_pad)};
        },
        [](torch::nn::Module& m, const Inputs& in) {
          return m.as<models::TransformerEncoderClassifierImpl>()->forward(in[0].toTensor(), in[1].toTensor());
        },
        [](torch::nn::Module& m, const Inputs& in) {
          return m.as<models::TransformerEncoderClassifierImpl>()->forward(in[0].toTensor(), in[1].toTensor()).mean();
        }}},
      {"vision_transformer",
       {"{name: vision_transformer, img_size: 16, patch_size: 4, in_chans: 1, num_classes: 5, embed_dim: 32, depth: 2, "
        "num_heads: 4, mlp_ratio: 2.0}",
        [](int64_t batch, int64_t) { return Inputs{torch::randn({batch, 1, 16, 16})}; },
        [](torch::nn::Module& m, const Inputs& in) {
          return m.as<models::VisionTransformerImpl>()->forward(in[0].toTensor());  // [B, num_classes]
        },
        [](torch::nn::Module& m, const Inputs& in) {
          return m.as<models::VisionTransformerImpl>()->forward(in[0].toTensor()).mean();
        }}},
  };
  return cases;
}

std::shared_ptr<torch::nn::Module> sweep_build(const SweepCase& c) {
  return families::build_model(configs::Config::parse("model: " + c.model_yaml + "\n", "sweep.yaml"));
}

/// Every parameter and buffer of `module` overwritten with noise, so a later load must bring the weights.
void sweep_scramble(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.normal_();
}

double sweep_error(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a - b).abs().max().item<double>();
}

std::string sweep_read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("Every registered model has a sweep case", "[models][sweep]") {
  for (const auto& name : families::model_registry().names()) {
    INFO("registered model " << name);
    CHECK(sweep_cases().count(name) == 1);
  }
}

TEST_CASE("Registry sweep: forward, backward, save/load, TorchScript and safetensors in C++ and Python",
          "[models][sweep][export]") {
  const auto name = GENERATE(from_range(families::model_registry().names()));
  INFO("model " << name);
  REQUIRE(sweep_cases().count(name) == 1);
  const auto& c = sweep_cases().at(name);
  const auto dir = testing::fresh_dir("sweep_" + name);
  torch::manual_seed(5);
  auto model = sweep_build(c);

  // Forward and backward (train mode): a finite loss, and a finite gradient for every parameter.
  model->train();
  auto loss = c.loss(*model, c.inputs(2, 6));
  REQUIRE(std::isfinite(loss.item<double>()));
  loss.backward();
  for (const auto& [pname, p] : layers::unique_named_parameters(*model)) {
    INFO("parameter " << pname);
    REQUIRE(p.grad().defined());
    CHECK(torch::isfinite(p.grad()).all().item<bool>());
  }
  model->zero_grad();
  model->eval();
  torch::NoGradGuard no_grad;

  // Reference outputs at two shapes.
  const std::vector<Inputs> inputs = {c.inputs(3, 7), c.inputs(1, 12)};
  std::vector<torch::Tensor> expected;
  for (const auto& in : inputs) expected.push_back(c.forward(*model, in));

  SECTION("save and load") {
    const auto path = (dir / "checkpoint.pt").string();
    train::save_checkpoint(path, *model, nullptr, {});
    auto loaded = sweep_build(c);
    sweep_scramble(*loaded);
    loaded->eval();
    CHECK(sweep_error(c.forward(*loaded, inputs[0]), expected[0]) > 1e-3);
    train::load_checkpoint(path, *loaded);
    for (size_t i = 0; i < inputs.size(); ++i) CHECK(c.forward(*loaded, inputs[i]).equal(expected[i]));
  }

  SECTION("TorchScript and safetensors exports, in C++ and in Python") {
    const auto script_path = dir / "model.pt";
    const auto weights_path = dir / "model.safetensors";
    train::export_torchscript(*model, script_path.string());
    train::export_safetensors(*model, weights_path.string(), name, "model: " + c.model_yaml + "\n");

    // C++: torch::jit::load, at batch sizes and lengths the export never saw.
    auto scripted = torch::jit::load(script_path.string());
    double script_error = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      script_error = std::max(script_error, sweep_error(scripted.forward(inputs[i]).toTensor(), expected[i]));
    }
    // C++: the safetensors weights in a freshly built model.
    auto reloaded = sweep_build(c);
    sweep_scramble(*reloaded);
    reloaded->eval();
    train::load_safetensors(*reloaded, weights_path.string());
    double weights_error = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      weights_error = std::max(weights_error, sweep_error(c.forward(*reloaded, inputs[i]), expected[i]));
    }
    std::cout << fmt::format("sweep {}: TorchScript max abs error {:.3g}, safetensors {:.3g} (C++)\n", name,
                             script_error, weights_error);
    CHECK(script_error <= 1e-5);
    CHECK(weights_error == 0.0);

    // Python: torch.jit.load, and the safetensors weights loaded into that module.
    c10::impl::GenericList calls(c10::AnyType::get());
    for (size_t i = 0; i < inputs.size(); ++i) {
      c10::impl::GenericList args(c10::AnyType::get());
      for (const auto& value : inputs[i]) args.push_back(value);
      calls.push_back(c10::ivalue::Tuple::create({c10::IValue(std::string("forward")), args, expected[i]}));
    }
    const auto calls_path = dir / "calls.pt";
    const auto bytes = torch::pickle_save(calls);
    std::ofstream(calls_path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    const auto log = dir / "python.log";
    const auto command = fmt::format(
        "python3 '{}/tests/reference/check_export.py' --torchscript '{}' --safetensors '{}' --calls '{}' > '{}' 2>&1",
        TORCHZOO_SOURCE_DIR, script_path.string(), weights_path.string(), calls_path.string(), log.string());
    const int status = std::system(command.c_str());
    const auto output = sweep_read(log);
    std::cout << "check_export.py (" << name << "):\n" << output;
    INFO(output);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  fs::remove_all(dir);
}
