// safetensors files: the format itself (every dtype, metadata, the checks on bad files),
// model weights in and out (tied weights, strict loading), and interop with PyTorch:
// tests/reference/safetensors_interop.py loads what we write into the PyTorch references
// and reproduces our outputs, and writes weights trained in Python whose outputs we reproduce.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "../support/golden.h"
#include "../support/temp_dir.h"
#include "torchzoo/data/masks.h"
#include "torchzoo/layers/shared_parameters.h"
#include "torchzoo/models/decoder_only_lm.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/models/transformer_encoder_classifier.h"
#include "torchzoo/models/vision_transformer.h"
#include "torchzoo/train/export/safetensors.h"

namespace fs = std::filesystem;
using namespace torchzoo;
using train::NamedTensors;
using train::read_safetensors;
using train::write_safetensors;

namespace {

// Sizes shared with safetensors_interop.py (VOCAB, PAD, D_MODEL, D_FF, HEADS, LAYERS, NUM_CLASSES).
constexpr int64_t kStVocab = 13;
constexpr int64_t kStPad = 0;
constexpr int64_t kStClasses = 3;

const std::vector<std::pair<std::string, torch::ScalarType>> kStDtypes = {
    {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
    {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
    {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};

/// safetensors_interop.py's dtype_pattern: [2, 3] values exact in every dtype.
torch::Tensor st_dtype_pattern(torch::ScalarType dtype) {
  auto k = torch::arange(6, torch::kFloat64).view({2, 3});
  if (dtype == torch::kBool) return k.to(torch::kLong).remainder(2) == 1;
  if (c10::isFloatingType(dtype)) return (k * 0.5 - 1).to(dtype);
  return (dtype == torch::kUInt8 ? k : k - 2).to(dtype);
}

std::string st_read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// A file of the header length (8 bytes, little-endian), `header` as it is, then `data`.
void st_write_raw(const fs::path& path, const std::string& header, const std::string& data = "",
                  std::optional<uint64_t> length = std::nullopt) {
  const uint64_t n = length.value_or(header.size());
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header << data;
}

/// Files in `dir` whose name contains ".tmp-" (what an interrupted write would leave).
std::vector<std::string> st_temporaries(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) found.push_back(entry.path().string());
  }
  return found;
}

/// Runs `python3 tests/reference/safetensors_interop.py ARGS`, returning its exit code and output.
std::pair<int, std::string> st_run_interop(const std::string& args, const fs::path& log) {
  const std::string command = std::string("python3 '") + TORCHZOO_SOURCE_DIR +
                              "/tests/reference/safetensors_interop.py' " + args + " > '" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, st_read_text(log)};
}

/// Moves every parameter away from its initial value (LayerNorm gains off one, biases off zero),
/// so that loading checks more than an initialisation.
void st_perturb(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : layers::unique_parameters(model)) p.add_(torch::randn_like(p) * 0.05);
}

/// tokens [B, T] in [1, kStVocab); row r's last pad_last[r] are kStPad.
torch::Tensor st_tokens(int64_t cols, std::vector<int64_t> pad_last) {
  auto t = torch::randint(1, kStVocab, {static_cast<int64_t>(pad_last.size()), cols}, torch::kLong);
  for (size_t r = 0; r < pad_last.size(); ++r) {
    if (pad_last[r] > 0) t[r].narrow(0, cols - pad_last[r], pad_last[r]).fill_(kStPad);
  }
  return t;
}

using StInputs = std::map<std::string, torch::Tensor>;

/// One model family of the interop tests: the C++ model mirroring safetensors_interop.py's
/// reference, inputs, and the output the reference computes from them.
struct StFamily {
  std::string name;
  std::shared_ptr<torch::nn::Module> model;
  std::function<train::NamedTensors()> make_inputs;
  std::function<torch::Tensor(const StInputs&)> run;
};

/// `tied`: the weight-tying variants (the references have no tying; their state_dicts still load).
StFamily st_family(const std::string& name, bool tied) {
  using namespace models;
  StFamily f;
  f.name = name;
  if (name == "encoder_decoder") {
    auto m = EncoderDecoder(EncoderDecoderOptions(kStVocab, kStVocab)
                                .num_layers(2)
                                .d_model(32)
                                .d_ff(64)
                                .num_heads(4)
                                .dropout(0.0)
                                .attention_dropout(0.0)
                                .share_embeddings(tied)
                                .tie_generator(tied));
    f.model = m.ptr();
    f.make_inputs = [] {
      auto src = st_tokens(7, {0, 2});
      auto tgt = st_tokens(6, {0, 2});
      return NamedTensors{{"src", src},
                          {"tgt", tgt},
                          {"src_mask", data::padding_mask(src, kStPad)},
                          {"tgt_mask", data::causal_padding_mask(tgt, kStPad)}};
    };
    f.run = [m](const StInputs& in) mutable {
      return m->generator(m->forward(in.at("src"), in.at("tgt"), in.at("src_mask"), in.at("tgt_mask")));
    };
  } else if (name == "vision_transformer") {
    auto m = VisionTransformer(VisionTransformerOptions()
                                   .img_size(8)
                                   .patch_size(4)
                                   .in_chans(3)
                                   .num_classes(kStClasses)
                                   .embed_dim(32)
                                   .depth(2)
                                   .num_heads(4)
                                   .mlp_ratio(2.0));
    f.model = m.ptr();
    f.make_inputs = [] { return NamedTensors{{"x", torch::randn({2, 3, 8, 8})}}; };
    f.run = [m](const StInputs& in) mutable { return m->forward(in.at("x")); };
  } else if (name == "transformer_encoder_classifier") {
    auto m = TransformerEncoderClassifier(TransformerEncoderClassifierOptions(kStVocab, kStClasses)
                                              .num_layers(2)
                                              .d_model(32)
                                              .d_ff(64)
                                              .num_heads(4)
                                              .dropout(0.0)
                                              .attention_dropout(0.0)
                                              .max_len(64));
    f.model = m.ptr();
    f.make_inputs = [] {
      auto tokens = st_tokens(7, {0, 3});
      return NamedTensors{{"tokens", tokens}, {"mask", data::padding_mask(tokens, kStPad)}};
    };
    f.run = [m](const StInputs& in) mutable { return m->forward(in.at("tokens"), in.at("mask")); };
  } else {
    REQUIRE(name == "decoder_only_lm");
    auto m = DecoderOnlyLM(DecoderOnlyLMOptions(kStVocab)
                               .num_layers(2)
                               .d_model(32)
                               .d_ff(64)
                               .num_heads(4)
                               .dropout(0.0)
                               .attention_dropout(0.0)
                               .max_len(64)
                               .tie_embeddings(tied));
    f.model = m.ptr();
    f.make_inputs = [] {
      auto tokens = st_tokens(7, {0, 2});
      return NamedTensors{{"tokens", tokens}, {"mask", data::causal_padding_mask(tokens, kStPad)}};
    };
    f.run = [m](const StInputs& in) mutable { return m->generator(m->forward(in.at("tokens"), in.at("mask"))); };
  }
  return f;
}

const std::vector<std::string> kStFamilies = {"encoder_decoder", "vision_transformer", "transformer_encoder_classifier",
                                              "decoder_only_lm"};

const torch::Tensor& st_find(const NamedTensors& state, const std::string& name) {
  for (const auto& item : state) {
    if (item.first == name) return item.second;
  }
  throw std::out_of_range("st_find: no tensor " + name);
}

std::map<std::string, torch::Tensor> st_inputs_of(const train::SafetensorsContents& io) {
  std::map<std::string, torch::Tensor> inputs;
  for (const auto& [key, tensor] : io.tensors) {
    if (key.rfind("input.", 0) == 0) inputs[key.substr(6)] = tensor;
  }
  return inputs;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// the format

TEST_CASE("safetensors round-trips every dtype, shapes and metadata", "[train][safetensors]") {
  const auto dir = testing::fresh_dir("st_round_trip");
  const auto path = (dir / "all.safetensors").string();
  NamedTensors tensors;
  for (const auto& [name, dtype] : kStDtypes) tensors.emplace_back(name, st_dtype_pattern(dtype));
  tensors.emplace_back("scalar", torch::tensor(7.5, torch::kFloat64));                    // shape []
  tensors.emplace_back("empty", torch::zeros({0, 4}));                                    // no bytes
  tensors.emplace_back("transposed", torch::arange(12, torch::kFloat).view({3, 4}).t());  // not contiguous
  tensors.emplace_back("odd.bytes", torch::tensor({1, 2, 3}, torch::kUInt8));             // 3 bytes, then F32s
  tensors.emplace_back("after.odd", torch::tensor({0.25f, -1.5f}));
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"torchzoo.config", "model:\n  name: \"x\"\n  d_model: 32\n"}, {"unicode", "Grüße ✓"}};
  write_safetensors(path, tensors, metadata);

  const auto contents = read_safetensors(path);
  CHECK(contents.metadata == metadata);
  REQUIRE(contents.tensors.size() == tensors.size());
  for (const auto& [name, expected] : tensors) {
    INFO(name);
    const auto& got = contents.at(name);
    CHECK(got.scalar_type() == expected.scalar_type());
    CHECK(got.sizes() == expected.sizes());
    CHECK(got.is_contiguous());
    CHECK(torch::equal(got, expected));
  }
  CHECK_THROWS_WITH(contents.at("nope"), Catch::Contains("no tensor 'nope'") && Catch::Contains("'F64'"));

  // The layout: 8 + header length is a multiple of 8, the header is JSON padded with spaces, and
  // every tensor starts at a multiple of its element size (largest elements first).
  const auto bytes = st_read_text(path);
  uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  CHECK((8 + header_size) % 8 == 0);
  CHECK(bytes[8] == '{');
  CHECK_THAT(bytes.substr(8, header_size), Catch::Contains("\"data_offsets\"") && Catch::Contains("\"BF16\""));
}

TEST_CASE("safetensors reads a file written by the Python library", "[train][safetensors][interop]") {
  const auto dir = testing::fresh_dir("st_python_dtypes");
  const auto [code, output] = st_run_interop("make '" + dir.string() + "'", dir / "python.log");
  INFO(output);
  REQUIRE(code == 0);
  const auto contents = read_safetensors((dir / "dtypes.safetensors").string());
  CHECK(contents.metadata.at("writer") == "safetensors_interop.py");
  REQUIRE(contents.tensors.size() == kStDtypes.size());
  for (const auto& [name, dtype] : kStDtypes) {
    INFO(name);
    const auto& got = contents.at(name);
    CHECK(got.scalar_type() == dtype);
    CHECK(torch::equal(got, st_dtype_pattern(dtype)));
  }
}

TEST_CASE("safetensors rejects bad files naming the file, the tensor and what was expected",
          "[train][safetensors][errors]") {
  const auto dir = testing::fresh_dir("st_bad_files");
  const auto path = (dir / "bad.safetensors").string();
  // A valid entry: F32 [2, 3] = 24 bytes.
  const std::string data24(24, '\0');
  auto expect_error = [&](const std::string& what, const std::vector<std::string>& parts) {
    INFO(what);
    try {
      read_safetensors(path);
      FAIL("no error for " << what);
    } catch (const c10::Error& e) {
      const std::string message = e.what_without_backtrace();
      INFO(message);
      CHECK_THAT(message, Catch::Contains("safetensors file '" + path + "'"));
      for (const auto& part : parts) CHECK_THAT(message, Catch::Contains(part));
    }
  };

  CHECK_THROWS_WITH(read_safetensors((dir / "missing.safetensors").string()),
                    Catch::Contains("missing.safetensors") && Catch::Contains("no such file"));

  {
    std::ofstream(path, std::ios::binary) << "abc";
    expect_error("too short", {"holds 3 bytes; expected at least 8"});
  }
  st_write_raw(path, "{}", "", 1000);
  expect_error("header length beyond the file", {"header length is 1000 bytes, but only 2 follow"});

  st_write_raw(path, R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24])", data24);
  expect_error("JSON syntax", {"not valid JSON", "parse error"});

  st_write_raw(path, R"([1, 2])");
  expect_error("not an object", {"the header is a JSON array; expected an object"});

  st_write_raw(path, R"({"w": {"dtype": "F8_X", "shape": [2, 3], "data_offsets": [0, 24]}})", data24);
  expect_error("unknown dtype", {"tensor 'w'", "unknown dtype 'F8_X'", "expected one of F64, F32"});

  st_write_raw(path, R"({"w": {"dtype": "F32", "shape": [2, 3]}})", data24);
  expect_error("missing field", {"tensor 'w'", "no 'data_offsets'"});

  st_write_raw(path, R"({"w": {"dtype": "F32", "shape": [2, -3], "data_offsets": [0, 24]}})", data24);
  expect_error("negative size", {"tensor 'w'", "shape is [2,-3]; expected non-negative integer sizes"});

  st_write_raw(path, R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", std::string(20, '\0'));
  expect_error("shape and offsets disagree", {"tensor 'w'", "F32 shape [2,3] needs 24 bytes", "span 20"});

  st_write_raw(path, R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})", std::string(16, '\0'));
  expect_error("offsets beyond the data", {"tensor 'w'", "reach beyond the data, which holds 16 bytes"});

  st_write_raw(path,
               R"({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                   "b": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}})",
               data24);
  expect_error("overlapping offsets", {"tensor 'b'", "overlap those of 'a' [0, 24]"});

  st_write_raw(path, R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})", std::string(16, '\0'));
  expect_error("a gap", {"tensor 'a'", "leave bytes [0, 8) that belong to no tensor"});

  st_write_raw(path, R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", std::string(16, '\0'));
  expect_error("trailing bytes", {"the data holds 16 bytes, but the tensors cover only [0, 8)"});

  st_write_raw(path,
               R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                   "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [24, 48]}})",
               data24 + data24);
  expect_error("duplicate names", {"tensor 'w'", "appears twice in the header"});

  st_write_raw(path, R"({"w": {"dtype": "F32", "dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})", data24);
  expect_error("duplicate field", {"tensor 'w'", "field 'dtype' appears twice"});

  st_write_raw(path, R"({"__metadata__": {"epoch": 3}, "w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})",
               std::string(1, '\1'));
  expect_error("metadata not strings", {"__metadata__ 'epoch' is 3; expected a string"});

  st_write_raw(path, R"({"m": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}})", std::string("\1\0\7", 3));
  expect_error("bool bytes", {"tensor 'm'", "BOOL element 2 is the byte 7; expected 0 or 1"});

  // What the spec allows: trailing spaces in the header, no tensors at all.
  st_write_raw(path, R"({"__metadata__": {"k": "v"}}   )");
  const auto empty = read_safetensors(path);
  CHECK(empty.tensors.empty());
  CHECK(empty.metadata.at("k") == "v");
}

TEST_CASE("safetensors writes atomically and checks what it writes", "[train][safetensors][errors]") {
  const auto dir = testing::fresh_dir("st_atomic");
  const auto path = (dir / "sub" / "model.safetensors").string();
  write_safetensors(path, {{"w", torch::ones({2})}});  // creates the folder
  const auto before = st_read_text(path);

  CHECK_THROWS_WITH(write_safetensors(path, {{"w", torch::ones({2})}, {"c", torch::ones({2}, torch::kComplexFloat)}}),
                    Catch::Contains(path) && Catch::Contains("tensor 'c'") &&
                        Catch::Contains("dtype ComplexFloat is not supported; expected one of F64"));
  CHECK_THROWS_WITH(write_safetensors(path, {{"w", torch::ones({2})}, {"w", torch::zeros({2})}}),
                    Catch::Contains("tensor 'w': appears twice"));
  CHECK_THROWS_WITH(write_safetensors(path, {{"__metadata__", torch::ones({2})}}), Catch::Contains("reserved"));
  CHECK_THROWS_WITH(write_safetensors(path, {{"", torch::ones({2})}}), Catch::Contains("empty name"));
  CHECK_THROWS_WITH(write_safetensors(path, {{"u", torch::Tensor()}}), Catch::Contains("tensor 'u': is an undefined"));
  CHECK(st_read_text(path) == before);  // failed writes leave the old file as it was

  // A failure after the data is written (the target is a folder, so the rename fails) leaves no temporary.
  const auto folder = dir / "taken.safetensors";
  fs::create_directories(folder / "inside");
  CHECK_THROWS(write_safetensors(folder.string(), {{"w", torch::ones({1000})}}));
  CHECK(fs::is_directory(folder / "inside"));
  CHECK(st_temporaries(dir).empty());
  CHECK(st_temporaries(dir / "sub").empty());
}

// ---------------------------------------------------------------------------------------------------------------
// model weights

TEST_CASE("save_safetensors / load_safetensors round-trip a model with tied weights and buffers",
          "[train][safetensors]") {
  const auto dir = testing::fresh_dir("st_tied");
  const auto path = (dir / "tied.safetensors").string();
  torch::manual_seed(3);
  auto source = st_family("encoder_decoder", /*tied=*/true);
  st_perturb(*source.model);
  train::save_safetensors(*source.model, path, {{"k", "v"}});

  // Every state_dict key is in the file, tied ones included, with the same values.
  const auto contents = read_safetensors(path);
  const auto state = train::module_state(*source.model);
  CHECK(contents.tensors.size() == state.size());
  for (const char* name : {"src_embed.0.lut.weight", "tgt_embed.0.lut.weight", "generator.proj.weight",
                           "generator.proj.bias", "src_embed.1.pe", "tgt_embed.1.pe"}) {
    INFO(name);
    CHECK_NOTHROW(contents.at(name));
  }
  CHECK(torch::equal(contents.at("src_embed.0.lut.weight"), contents.at("generator.proj.weight")));
  CHECK(torch::equal(contents.at("tgt_embed.0.lut.weight"), contents.at("generator.proj.weight")));

  torch::manual_seed(4);
  auto target = st_family("encoder_decoder", /*tied=*/true);
  const auto report = train::load_safetensors(*target.model, path);
  CHECK(report.metadata.at("k") == "v");
  CHECK(report.conversions.empty());
  auto params = target.model->named_parameters();
  for (const auto& [name, tensor] : state) {
    INFO(name);
    const auto* p = params.find(name);
    CHECK(torch::equal(p != nullptr ? *p : target.model->named_buffers()[name], tensor));
  }
  // Still tied: one tensor under the three names.
  CHECK(params["generator.proj.weight"].data_ptr() == params["src_embed.0.lut.weight"].data_ptr());
  CHECK(params["generator.proj.weight"].data_ptr() == params["tgt_embed.0.lut.weight"].data_ptr());

  // Different values under tied names are an error, and nothing is copied.
  auto untied_state = state;
  for (auto& [name, tensor] : untied_state) {
    if (name == "generator.proj.weight") tensor = tensor + 1;
  }
  write_safetensors(path, untied_state);
  try {
    train::load_safetensors(*st_family("encoder_decoder", true).model, path);
    FAIL("tied names with different values loaded");
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    CHECK_THAT(message, Catch::Contains(path) && Catch::Contains("tied weights") &&
                            Catch::Contains("'generator.proj.weight'") && Catch::Contains("max abs difference 1"));
  }
}

TEST_CASE("safetensors load_state is strict and copies nothing when the state does not fit",
          "[train][safetensors][errors]") {
  torch::manual_seed(5);
  auto family = st_family("transformer_encoder_classifier", false);
  auto& model = *family.model;
  const auto original = train::module_state(model);
  auto unchanged = [&] {
    const auto now = train::module_state(model);
    for (size_t i = 0; i < now.size(); ++i) {
      if (!torch::equal(now[i].second, original[i].second)) return false;
    }
    return true;
  };
  auto state = original;
  for (auto& [name, tensor] : state) tensor = tensor.clone() + 1;  // what a successful load would copy

  SECTION("missing and unexpected names are listed") {
    auto bad = state;
    bad.erase(bad.begin());  // embed.0.lut.weight
    bad.emplace_back("head.extra", torch::zeros({1}));
    CHECK_THROWS_WITH(train::load_state(model, bad, "my state"),
                      Catch::Contains("my state does not fit this model") &&
                          Catch::Contains("missing 1 the model needs: 'embed.0.lut.weight'") &&
                          Catch::Contains("1 the model does not have: 'head.extra'"));
  }
  SECTION("shapes must match") {
    auto bad = state;
    for (auto& [name, tensor] : bad) {
      if (name == "head.weight") tensor = torch::zeros({4, 32});
    }
    CHECK_THROWS_WITH(train::load_state(model, bad, "my state"),
                      Catch::Contains("'head.weight' has shape [4, 32], the model expects [3, 32]"));
  }
  SECTION("integer data does not load into floating-point parameters") {
    auto bad = state;
    for (auto& [name, tensor] : bad) {
      if (name == "head.bias") tensor = torch::zeros({3}, torch::kLong);
    }
    CHECK_THROWS_WITH(train::load_state(model, bad, "my state"),
                      Catch::Contains("'head.bias' is I64, the model expects F32"));
  }
  CHECK(unchanged());

  SECTION("floating-point dtypes are converted and reported") {
    auto half = state;
    for (auto& [name, tensor] : half) {
      if (name == "head.weight") tensor = tensor.to(torch::kBFloat16);
    }
    const auto report = train::load_state(model, half, "my state");
    CHECK(report.conversions == std::vector<std::string>{"head.weight: BF16 -> F32"});
    CHECK(model.named_parameters()["head.weight"].scalar_type() == torch::kFloat);
    CHECK(torch::equal(model.named_parameters()["head.weight"], st_find(half, "head.weight").to(torch::kFloat)));
    CHECK(torch::equal(model.named_buffers()["embed.1.pe"], st_find(state, "embed.1.pe")));
  }
}

TEST_CASE("export_safetensors describes the model in the metadata", "[train][safetensors]") {
  const auto dir = testing::fresh_dir("st_export");
  const auto path = (dir / "export.safetensors").string();
  auto family = st_family("decoder_only_lm", true);
  train::export_safetensors(*family.model, path, "decoder_only_lm", "model:\n  name: decoder_only_lm\n");
  const auto contents = read_safetensors(path);
  CHECK(contents.metadata ==
        std::map<std::string, std::string>{{"format", "pt"},
                                           {"torchzoo.model", "decoder_only_lm"},
                                           {"torchzoo.config", "model:\n  name: decoder_only_lm\n"}});
  CHECK(contents.tensors.size() == train::module_state(*family.model).size());
}

// ---------------------------------------------------------------------------------------------------------------
// interop with the PyTorch references

TEST_CASE("PyTorch references load our safetensors files and reproduce our outputs", "[train][safetensors][interop]") {
  const auto dir = testing::fresh_dir("st_cpp_to_python");
  for (size_t i = 0; i < kStFamilies.size(); ++i) {
    torch::manual_seed(static_cast<uint64_t>(10 + i));
    // Tied variants where the model has them: the file lists the tied names separately, as the
    // references' (untied) state_dicts do.
    auto family = st_family(kStFamilies[i], /*tied=*/true);
    st_perturb(*family.model);
    family.model->eval();
    const auto inputs = family.make_inputs();
    std::map<std::string, torch::Tensor> input_map(inputs.begin(), inputs.end());
    torch::Tensor output;
    {
      torch::NoGradGuard no_grad;
      output = family.run(input_map);
    }
    train::export_safetensors(*family.model, (dir / (family.name + ".weights.safetensors")).string(), family.name,
                              "model:\n  name: " + family.name + "\n");
    NamedTensors io;
    for (const auto& [name, tensor] : inputs) io.emplace_back("input." + name, tensor);
    io.emplace_back("output", output);
    write_safetensors((dir / (family.name + ".io.safetensors")).string(), io);
  }
  NamedTensors dtypes;
  for (const auto& [name, dtype] : kStDtypes) dtypes.emplace_back(name, st_dtype_pattern(dtype));
  write_safetensors((dir / "dtypes.safetensors").string(), dtypes);

  const auto [code, output] = st_run_interop("check '" + dir.string() + "'", dir / "python.log");
  std::cout << "safetensors_interop.py check (C++ -> Python):\n" << output;
  INFO(output);
  CHECK(code == 0);
  for (const auto& name : kStFamilies) CHECK_THAT(output, Catch::Contains("ok " + name + ":"));
  CHECK_THAT(output, Catch::Contains("dtypes: 10 tensors read"));
}

TEST_CASE("safetensors weights trained in PyTorch load into our models and reproduce its outputs",
          "[train][safetensors][interop]") {
  const auto dir = testing::fresh_dir("st_python_to_cpp");
  const auto [code, log] = st_run_interop("make '" + dir.string() + "'", dir / "python.log");
  INFO(log);
  REQUIRE(code == 0);
  for (const auto& name : kStFamilies) {
    INFO(name);
    torch::manual_seed(0);
    auto family = st_family(name, /*tied=*/false);  // the references tie nothing
    const auto weights = (dir / (name + ".weights.safetensors")).string();
    const auto report = train::load_safetensors(*family.model, weights);
    CHECK(report.metadata.at("torchzoo.model") == name);
    CHECK(report.conversions.empty());
    family.model->eval();
    const auto io = read_safetensors((dir / (name + ".io.safetensors")).string());
    torch::Tensor output;
    {
      torch::NoGradGuard no_grad;
      output = family.run(st_inputs_of(io));
    }
    const auto& expected = io.at("output");
    REQUIRE(output.sizes() == expected.sizes());
    const double error = testing::max_abs_diff(output, expected);
    std::cout << "Python -> C++ " << name << ": max abs error " << error << "\n";
    CHECK(error <= testing::kOutputAtol);
  }

  // A tied model cannot take untied trained weights: the names it ties hold different values.
  auto tied = st_family("decoder_only_lm", /*tied=*/true);
  const auto weights = (dir / "decoder_only_lm.weights.safetensors").string();
  CHECK_THROWS_WITH(train::load_safetensors(*tied.model, weights),
                    Catch::Contains(weights) && Catch::Contains("'embed.0.lut.weight' and 'generator.proj.weight'") &&
                        Catch::Contains("tied weights"));
}
