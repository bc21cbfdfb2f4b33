#pragma once
// Weights in the safetensors format (https://huggingface.co/docs/safetensors), the
// interchange format of the Python ecosystem: a file our models write loads into the
// PyTorch references with `load_state_dict(strict=True)` (tests/reference/), and a
// `safetensors.torch.save_file` of a reference's state_dict loads into our models.
// Parameter names are the references' state_dict keys (the annotated Transformer's,
// timm's for ViT), which our modules use as their own names.
//
// Layout of a file:
//   [8 bytes]  N, the header length, unsigned 64-bit little-endian
//   [N bytes]  JSON object: name -> {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
//              plus an optional "__metadata__": {string: string}; padded with spaces so
//              that 8 + N is a multiple of 8
//   [rest]     the tensors' bytes, row-major and little-endian; data_offsets count from
//              here and cover every byte exactly once
//
// Dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL.
//
// Every error is a c10::Error whose message names the file and, where there is one,
// the tensor's name, and says what was expected and what was found.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace torchzoo::train {

/// Tensors by name, in the order they are written (or were found in a file).
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// What a safetensors file holds.
struct SafetensorsContents {
  /// In the order of their data in the file.
  NamedTensors tensors;
  /// The header's `__metadata__` (empty when the file has none).
  std::map<std::string, std::string> metadata;

  /// The tensor `name`; throws naming the tensors present when there is none.
  const torch::Tensor& at(const std::string& name) const;
};

/// Writes `tensors` (CPU or not, any strides) and `metadata` to `path`, creating its
/// folder. The file appears whole or not at all: it is written under a temporary name
/// in the same folder and renamed. Names must be unique, non-empty and not
/// `__metadata__`; tensors defined and of a supported dtype.
///
/// Example:
///   write_safetensors("out/state.safetensors", {{"w", torch::ones({2, 3})}, {"step", torch::tensor(7)}},
///                     {{"format", "pt"}});
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// Reads every tensor of `path` onto the CPU, checking the header against the file:
/// its length, the JSON (parsed with nlohmann::json; its message is passed on),
/// duplicate names, each entry's fields and dtype, that shape and offsets agree and
/// that the offsets lie in the data and cover it without overlaps.
///
/// Example:
///   auto contents = read_safetensors("model.safetensors");
///   torch::Tensor pe = contents.at("src_embed.1.pe");  // [1, max_len, d_model]
SafetensorsContents read_safetensors(const std::string& path);

/// Every parameter and buffer of `module` (named_parameters() then named_buffers(), the
/// keys of the reference's state_dict), moved to the CPU. A tensor shared under several
/// names (tied weights) is listed under each of them.
NamedTensors module_state(const torch::nn::Module& module);

/// Writes module_state(module) and `metadata` to `path` (see write_safetensors).
///
/// Example:
///   save_safetensors(*model, "model.safetensors", {{"format", "pt"}});
void save_safetensors(const torch::nn::Module& module, const std::string& path,
                      const std::map<std::string, std::string>& metadata = {});

/// What load_state / load_safetensors did besides copying.
struct LoadReport {
  /// The file's `__metadata__` (load_safetensors only).
  std::map<std::string, std::string> metadata;
  /// Tensors whose floating-point dtype was converted to the model's, e.g.
  /// "generator.proj.weight: BF16 -> F32".
  std::vector<std::string> conversions;
};

/// Copies `state` into the parameters and buffers of `module`, on the module's device
/// and in its dtypes, without recording gradients. Strict: nothing is copied unless the
/// names are exactly the module's (the error lists the missing and the unexpected
/// ones), every shape matches, dtypes are both floating point or both the same, and
/// names the module ties to one tensor hold equal values. `source` names the state in
/// errors (e.g. the file).
///
/// Example:
///   load_state(*model, {{"head.weight", w}, {"head.bias", b}}, "my weights");
LoadReport load_state(torch::nn::Module& module, const NamedTensors& state, const std::string& source);

/// load_state(module, read_safetensors(path).tensors, path), returning the file's metadata too.
///
/// Example:
///   auto report = load_safetensors(*model, "vit_from_python.safetensors");
///   for (const auto& note : report.conversions) fmt::print("converted {}\n", note);
LoadReport load_safetensors(torch::nn::Module& module, const std::string& path);

/// Metadata keys a torchzoo export carries, so that a file says what made it.
inline constexpr const char* kMetadataModel = "torchzoo.model";    ///< registry name, e.g. "encoder_decoder"
inline constexpr const char* kMetadataConfig = "torchzoo.config";  ///< the effective YAML config

/// `torchzoo export --format safetensors`: save_safetensors with metadata
/// {"format": "pt", "torchzoo.model": model_name, "torchzoo.config": config_yaml}
/// ("format": "pt" is what the Python library's users, e.g. transformers, look for).
///
/// Example:
///   export_safetensors(*experiment.model, "runs/x/model.safetensors", experiment.model_name, config.to_yaml());
void export_safetensors(const torch::nn::Module& model, const std::string& path, const std::string& model_name,
                        const std::string& config_yaml);

/// The safetensors name of a dtype ("F32", "BF16", ...); throws for an unsupported one.
std::string safetensors_dtype_name(torch::ScalarType dtype);

}  // namespace torchzoo::train
