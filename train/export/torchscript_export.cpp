#include "torchzoo/train/export/torchscript_export.h"

#include <unordered_map>

#include <torch/csrc/jit/api/compilation_unit.h>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"
#include "torchzoo/train/export/torchscript_forms.h"

namespace torchzoo::train {
namespace {

/// Builds the torch::jit::Module tree of a torch::nn::Module tree, one class per module, in one
/// compilation unit (names that repeat are mangled: __torch__.torchzoo.layers.___torch_mangle_3.EncoderLayer).
class ScriptBuilder {
 public:
  explicit ScriptBuilder(const TorchScriptExportOptions& options)
      : options_(options), unit_(std::make_shared<torch::jit::CompilationUnit>()) {}

  /// `module` at `path` ("" for the root, else e.g. "encoder.layers.0") as a TorchScript module:
  /// its parameters and buffers under their names, its children (those not left out), then its methods.
  torch::jit::Module convert(const torch::nn::Module& module, const std::string& path) {
    const auto where = path.empty() ? std::string("the model") : fmt::format("submodule '{}'", path);
    auto form = script::script_form(module, options_);
    TORCHZOO_CHECK(form.has_value(),
                   "TorchScript export: {} is a {}, which has no TorchScript form (train/export/torchscript_forms.cpp "
                   "lists the modules that have one)",
                   where, module.name());
    torch::jit::Module out(c10::QualifiedName("__torch__.torchzoo." + form->class_name), unit_, /*shouldMangle=*/true);
    // The flag torch.nn.Module.train()/eval() set; the methods are eval-mode code whatever its value.
    out.register_attribute("training", c10::BoolType::get(), false);
    for (const auto& item : module.named_parameters(/*recurse=*/false)) {
      out.register_parameter(item.key(), copy_of(item.value()), /*is_buffer=*/false);
    }
    for (const auto& item : module.named_buffers(/*recurse=*/false)) {
      out.register_buffer(item.key(), copy_of(item.value()));
    }
    for (const auto& child : module.named_children()) {
      if (script::left_out(*child.value())) continue;
      out.register_module(child.key(), convert(*child.value(), path.empty() ? child.key() : path + "." + child.key()));
    }
    if (!form->methods.empty()) {
      try {
        out.define(form->methods);
      } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("TorchScript export: the methods of {} ({}) do not compile: {}", where,
                                             form->class_name, e.what()));
      }
    }
    return out;
  }

 private:
  /// A detached copy of `tensor`; a tensor met before (a shared parameter) gives the same copy, so
  /// it stays shared in the export.
  torch::Tensor copy_of(const torch::Tensor& tensor) {
    auto [it, inserted] = copies_.try_emplace(tensor.unsafeGetTensorImpl());
    if (inserted) {
      it->second = tensor.detach().clone();
      it->second.set_requires_grad(tensor.requires_grad());
    }
    return it->second;
  }

  const TorchScriptExportOptions& options_;
  std::shared_ptr<torch::jit::CompilationUnit> unit_;
  std::unordered_map<const c10::TensorImpl*, torch::Tensor> copies_;
};

}  // namespace

torch::jit::Module to_torchscript(const torch::nn::Module& model, const TorchScriptExportOptions& options) {
  torch::NoGradGuard no_grad;
  return ScriptBuilder(options).convert(model, "");
}

void export_torchscript(const torch::nn::Module& model, const std::string& path,
                        const TorchScriptExportOptions& options) {
  auto scripted = to_torchscript(model, options);
  torch::jit::ExtraFilesMap extra_files(options.extra_files().begin(), options.extra_files().end());
  common::write_atomically(path, "TorchScript export", [&](std::ostream& out) { scripted.save(out, extra_files); });
}

}  // namespace torchzoo::train
