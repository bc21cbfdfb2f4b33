#pragma once
// How each module type is written in TorchScript (used by train/export/torchscript_export.h).
//
// A form is the TorchScript class name of a module and the source of its
// methods, which restate the module's C++ forward in eval mode. The source
// reaches children by their registered names (`self.encoder`, and
// `getattr(self.layers, "0")` for list entries) and bakes the options in as
// constants, so each module of a model gets its own class.
#include <optional>
#include <string>

#include <torch/nn/module.h>

#include "torchzoo/train/export/torchscript_export.h"

namespace torchzoo::train::script {

/// How one module is written in TorchScript: its class name and the source of its methods.
struct ScriptForm {
  /// Class name under __torch__.torchzoo, e.g. "layers.MultiHeadedAttention".
  std::string class_name;
  /// TorchScript source of the methods; empty for a container whose parent reaches into it.
  std::string methods;
};

/// True for modules that do nothing in eval mode and hold no state (dropout, drop path):
/// the export leaves them out.
bool left_out(const torch::nn::Module& module);

/// The form of `module`; nullopt when no form is known for its type.
std::optional<ScriptForm> script_form(const torch::nn::Module& module, const TorchScriptExportOptions& options);

}  // namespace torchzoo::train::script
