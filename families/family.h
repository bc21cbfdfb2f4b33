#pragma once
// A model family: everything that differs between translation, image
// classification, text classification and language modelling, behind one
// registered object. The trainer, the CLI and export ask the family; they
// never cast a model to find out what it is.
//
//   Family       what the registry holds: the `model.name` it builds, the
//                `data.name` values it trains on, and `build`;
//   FamilyModel  what `build` makes from the `model` section: the model with its
//                concrete type, which then builds its training task, resamples
//                weights it is initialised from, says how it is exported, and
//                serves the CLI verbs its family has (eval, predict, decode,
//                translate, generate). A verb a family lacks is an error naming
//                the families that have it.
//
// families/registry.cpp lists the families; README.md, "Adding a model family",
// says which files a new one brings.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "torchzoo/configs/config.h"
#include "torchzoo/train/decode/lm_generation.h"
#include "torchzoo/train/decode/translator.h"
#include "torchzoo/train/export/safetensors.h"
#include "torchzoo/train/export/torchscript_export.h"
#include "torchzoo/train/tasks/task.h"

namespace torchzoo::families {

using configs::Config;
using configs::Section;

/// A request the command line got wrong (a flag or argument, named by `what`): the CLI's exit
/// status 2, as for a bad config.
class UsageError : public std::invalid_argument {
 public:
  UsageError(const std::string& what, const std::string& message) : std::invalid_argument(what + ": " + message) {}
};

/// `torchzoo eval`: the split to evaluate on and, for sequence-to-sequence models, the decoding.
struct EvalRequest {
  std::string checkpoint;  ///< for the report line
  std::string config_path;
  std::string split = "valid";  ///< valid or test
  train::TranslatorOptions decoding;
};

/// `torchzoo predict`: inputs named on the command line (images) or lines of `in` (texts).
struct PredictRequest {
  std::vector<std::string> inputs;
  int64_t top = 0;  ///< classes per input; 0: the family's default
};

/// `torchzoo generate`.
struct GenerateRequest {
  /// The texts to continue, each generated for alone; an empty one starts from bos alone.
  std::vector<std::string> prompts{""};
  /// Prompts generated together in one batch (train::generate_batch).
  int64_t batch_size = 32;
  train::GenerateOptions options;
  bool ignore_eos = false;  ///< generate options.max_tokens() tokens even past the end-of-text token
};

/// `torchzoo attention`: one input and which maps to show.
struct AttentionRequest {
  std::string input;   ///< a sentence (translation, text classification) or an image (PNG, IDX_FILE:INDEX)
  bool heads = false;  ///< each head of `layer` (and their mean) instead of each layer's mean over heads
  int64_t layer = -1;  ///< the layer (0-based) whose heads `heads` shows; -1: the last
  train::TranslatorOptions decoding;  ///< how a translation model decodes the target that attends
};

/// What a model attended to for one input, ready to draw (viz/heatmap.h, viz/attention_overlay.h):
/// maps that share their row and column labels (tokens), or maps over an image.
struct AttentionView {
  std::string title;                    ///< what the picture shows, e.g. the input and the prediction
  std::vector<std::string> map_titles;  ///< one per map
  torch::Tensor maps;                   ///< float, CPU [maps, rows, cols]
  std::vector<std::string> row_labels;  ///< rows' tokens (empty for maps over an image)
  std::vector<std::string> col_labels;  ///< columns' tokens (empty for maps over an image)
  torch::Tensor image;                  ///< float, CPU [C, H, W] in [0, 1]: the maps lie over it; else undefined
};

/// Per-layer attention [h, R, C] (R query rows, C key columns, each layer's from
/// models::AttentionRecorder) as a view's maps: each layer's mean over its heads, then the mean
/// of all layers; or, with request.heads, each head of request.layer, then their mean. Titles
/// name each ("layer 3 (mean of 8 heads)", "layer 6, head 2"). A layer out of range is a
/// UsageError naming --layer.
std::pair<std::vector<std::string>, torch::Tensor> layer_or_head_maps(const std::vector<torch::Tensor>& layers,
                                                                      const AttentionRequest& request);

/// The model of one config, built by its family with its concrete type. The methods that read
/// other sections (`data`, `loss`, `sample`) take the whole config.
class FamilyModel {
 public:
  virtual ~FamilyModel() = default;

  /// The model as a module: parameters, checkpoints, printing.
  virtual std::shared_ptr<torch::nn::Module> module() const = 0;

  /// The width a Noam schedule scales by: the model's d_model (a ViT's embed_dim).
  virtual int64_t model_size() const = 0;

  /// The training task named by data.name, around this model; a ConfigError at data.name when this
  /// family does not train on that data.
  virtual std::unique_ptr<train::Task> build_task(const Config& config) const = 0;

  /// Adapts weights read from model.init_from (state_dict names and tensors) to this model before
  /// they are loaded; the default leaves them as they are.
  virtual void adapt_init_weights(train::NamedTensors& tensors) const {}

  /// `torchzoo export --format safetensors`: the tensors under the names the model's Python
  /// reference uses, and files to write beside them (name -> content). The default: the module's
  /// state as it is, no files. A bert_classifier gives Hugging Face's names and writes config.json
  /// and tokenizer.json, so that transformers' from_pretrained loads the folder.
  virtual std::pair<train::NamedTensors, std::map<std::string, std::string>> safetensors_export(
      const Config& config) const {
    return {train::module_state(*module()), {}};
  }

  /// What a TorchScript archive of this model carries beside the code: decoding symbols and the
  /// files of its data (tokenizers, class names). The default: none; the caller adds config.yaml.
  virtual train::TorchScriptExportOptions script_export_options(const Config& config) const { return {}; }

  // ---- CLI verbs: each default throws std::invalid_argument naming the family that has it.

  /// `torchzoo eval`: evaluates the (loaded) model on the request's split; prints one report.
  virtual void eval(const Config& config, const EvalRequest& request, std::ostream& out) const;
  /// `torchzoo predict`: the top classes of each input.
  virtual void predict(const Config& config, const PredictRequest& request, std::istream& in,
                       std::ostream& out) const;
  /// `torchzoo decode`: greedy decoding of token ids (max_len 0: the source length).
  virtual std::vector<int64_t> decode(const Config& config, const std::vector<int64_t>& source,
                                      int64_t max_len) const;
  /// `torchzoo translate`: the translator of the (loaded) model and the config's tokenizers.
  virtual train::Translator translator(const Config& config) const;
  /// `torchzoo generate`: each prompt with its continuation, in order.
  virtual std::vector<std::string> generate(const Config& config, const GenerateRequest& request) const;
  /// `torchzoo attention`: the (loaded) model's attention for one input: a translation's
  /// cross-attention (target tokens by source tokens), a ViT's class-token attention and its
  /// rollout over the image, a text classifier's class-token attention over the tokens.
  virtual AttentionView attention(const Config& config, const AttentionRequest& request) const;

 protected:
  /// Throws std::invalid_argument: "a <family> model cannot <verb>; <who can>".
  [[noreturn]] void unsupported(const std::string& verb, const std::string& who_can) const;
  /// The family's name, for messages.
  virtual std::string family_name() const = 0;
  /// The device the model's parameters are on (where the verbs put their inputs).
  torch::Device device() const;
  /// The `data` section, checked to name data this family trains on: an unknown data.name lists the
  /// registered ones, another family's says which model that data needs.
  Section data_section(const Config& config) const;
};

/// A FamilyModel holding a model of type `Model` (a torch::nn ModuleHolder such as
/// models::EncoderDecoder): what every family's model class starts from.
template <class Model>
class FamilyModelOf : public FamilyModel {
 public:
  explicit FamilyModelOf(Model model) : model_(std::move(model)) {}
  std::shared_ptr<torch::nn::Module> module() const override { return model_.ptr(); }

 protected:
  Model model_;
};

/// A registered family. `datasets` are the data.name values its task builder accepts.
struct Family {
  /// A name with a line of help, as `torchzoo` lists registered models and datasets.
  struct Named {
    std::string name;
    std::string help;
  };
  std::string name;  ///< e.g. "translation"
  std::string what;  ///< what its data trains, for messages: "a sequence-to-sequence model"
  /// The model.name values it builds, e.g. {"encoder_decoder", "annotated Transformer ..."}.
  std::vector<Named> models;
  std::vector<Named> datasets;
  /// The model of a `model` section, one of `models` (which it finishes: unknown keys are errors).
  std::function<std::unique_ptr<FamilyModel>(const Section& model)> build;
};

}  // namespace torchzoo::families
