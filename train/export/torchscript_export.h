#pragma once
// TorchScript export of a C++-built model: a torch::jit::Module that Python
// (torch.jit.load) and C++ (torch::jit::load) load with a working `forward`.
//
// LibTorch cannot script or trace a torch::nn::Module (PyTorch issue "Saving
// a C++ module as TorchScript"). We build the TorchScript module directly:
// every torch::nn submodule becomes a torch::jit::Module of the same name
// holding copies of its parameters and buffers (so state_dict keys are the
// model's, which are the Python references'), and its methods are defined
// from TorchScript source that restates the C++ forward (train/export/torchscript_forms.cpp).
// The modules are for inference: dropout and stochastic depth are left out.
//
// Methods of the exported families (masks are bool, true = may attend):
//   encoder_decoder  forward(src, tgt, src_mask, tgt_mask) -> decoder output [B, T_tgt, d_model]
//                    encode(src, src_mask), decode(memory, src_mask, tgt, tgt_mask),
//                    generator(x) -> log-probabilities,
//                    greedy_decode(src, src_mask, max_len, start_symbol=S, end_symbol=E, pad=P) -> [B, <= max_len]
//   decoder_only_lm  forward(tokens, mask) -> hidden [B, T, d_model], generator(x),
//                    generate(tokens, max_new_tokens, temperature=1.0, top_k=0, top_p=1.0,
//                             end_symbol=E, pad=P) -> [B, T + <= max_new_tokens]
//   transformer_encoder_classifier  forward(tokens, mask) -> logits [B, num_classes]
//   vision_transformer  forward(images) -> logits [B, num_classes], forward_features(images)
// The decoding methods carry a key/value cache, as train/greedy_decode and
// train/lm_generation do.
#include <cstdint>
#include <map>
#include <string>

#include <torch/arg.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/nn/module.h>

namespace torchzoo::train {

/// Files stored beside the code in a TorchScript archive: name -> bytes.
using ExtraFiles = std::map<std::string, std::string>;

/// Options of the TorchScript export: the decoding methods' default symbols and the extra files.
struct TorchScriptExportOptions {
  /// Default start symbol of greedy_decode (encoder-decoder models).
  TORCH_ARG(int64_t, start_symbol) = 1;
  /// Default end symbol of greedy_decode and generate; -1: none (decode to the length asked for).
  TORCH_ARG(int64_t, end_symbol) = -1;
  /// Default filler after a row's end symbol in greedy_decode and generate.
  TORCH_ARG(int64_t, pad) = 0;
  /// Files stored in the archive beside the code (name -> bytes), e.g. the config and tokenizer models;
  /// read back with torch::jit::load(path, device, extra_files) or torch.jit.load(path, _extra_files=...).
  TORCH_ARG(ExtraFiles, extra_files) = {};
};

/// The TorchScript form of `model` (a registered torchzoo model, or any tree of the modules in layers/),
/// in eval mode, holding copies of its parameters and buffers on their current device (shared
/// parameters stay shared). Throws naming the module path when a submodule has no TorchScript form.
///
/// Example:
///   auto scripted = to_torchscript(*model, TorchScriptExportOptions().start_symbol(1).end_symbol(2));
///   auto out = scripted.forward({src, tgt, src_mask, tgt_mask}).toTensor();
torch::jit::Module to_torchscript(const torch::nn::Module& model, const TorchScriptExportOptions& options = {});

/// Writes to_torchscript(model, options) to `path` (with options.extra_files), through a temporary
/// file renamed into place: a failure leaves no file under `path`.
///
/// Example:
///   export_torchscript(*model, "model.pt", TorchScriptExportOptions().extra_files({{"config.yaml", yaml}}));
void export_torchscript(const torch::nn::Module& model, const std::string& path,
                        const TorchScriptExportOptions& options = {});

}  // namespace torchzoo::train
