// The text-classification family on labelled texts (data.name:
// text_classification), with two models: a BERT-style encoder-only classifier
// trained from scratch with SentencePiece (model.name:
// transformer_encoder_classifier), and Hugging Face's BERT
// (BertForSequenceClassification, model.name: bert_classifier) with its
// WordPiece tokenizer, usually fine-tuned from a pretrained folder
// (model.init_from). It evaluates with accuracy by text length, classifies
// stdin lines, and exports its tokenizer and classes.
#include "torchzoo/families/text_classification.h"

#include <iostream>
#include <map>
#include <stdexcept>

#include <filesystem>
#include "torchzoo/common/format.h"
#include "torchzoo/configs/builders.h"
#include "torchzoo/configs/model_keys.h"
#include "torchzoo/data/labeled_text.h"
#include "torchzoo/data/text_file.h"

#include "torchzoo/models/attention_recorder.h"
#include "torchzoo/models/bert.h"
#include "torchzoo/models/transformer_encoder_classifier.h"
#include "torchzoo/train/export/hf_bert.h"
#include "torchzoo/train/tasks/text_classification_task.h"
#include "torchzoo/train/tasks/text_classifier.h"

namespace torchzoo::families {
namespace text_classification {
namespace {

models::TransformerEncoderClassifier build_transformer_encoder_classifier(const Section& s) {
  models::TransformerEncoderClassifierOptions o(s.require<int64_t>("vocab"), s.require<int64_t>("num_classes"));
  if (o.vocab() <= 0) s.fail("vocab", fmt::format("must be positive, got {}", o.vocab()));
  if (o.num_classes() <= 0) s.fail("num_classes", fmt::format("must be positive, got {}", o.num_classes()));
  configs::read_transformer_stack(s, o);
  o.norm_first(s.get<bool>("norm_first", o.norm_first()));
  o.learned_positions(s.get_choice("positions", o.learned_positions() ? "learned" : "sinusoidal", {"sinusoidal", "learned"}) == "learned")
      .pooling(models::pooling_from_string(s.get_choice("pooling", models::to_string(o.pooling()), {"cls", "mean"})));
  if (!o.learned_positions() && o.d_model() % 2 != 0) {
    s.fail("d_model", fmt::format("must be even (sinusoidal positions), got {}", o.d_model()));
  }
  const double d = static_cast<double>(o.d_model());
  configs::check_stack_fits(s, o, d * static_cast<double>(o.vocab() + o.max_len() + o.num_classes()), 1,
                            {{"vocab", static_cast<double>(o.vocab())}});
  s.finish();
  return models::TransformerEncoderClassifier(o);
}

/// model.name: bert_classifier. With init_from (a Hugging Face folder, or a .safetensors file beside its
/// config.json) the sizes are the folder's; size keys given as well must agree with it.
models::BertClassifier build_bert_classifier(const Section& s) {
  models::BertOptions o;
  const auto init_from = s.get_optional<std::string>("init_from");
  if (init_from) {
    try {
      o = train::hf_bert_options(*init_from);
    } catch (const c10::Error& error) {
      s.fail("init_from", error.what_without_backtrace());
    }
  }
  const auto size = [&](const char* key, int64_t from_folder) {
    const auto value = s.get_positive<int64_t>(key, from_folder);
    if (init_from && value != from_folder) {
      s.fail(key, fmt::format("is {} in {}'s config.json, got {}", from_folder, *init_from, value));
    }
    return value;
  };
  o.vocab_size(size("vocab_size", o.vocab_size()))
      .hidden_size(size("hidden_size", o.hidden_size()))
      .num_hidden_layers(size("num_hidden_layers", o.num_hidden_layers()))
      .num_attention_heads(size("num_attention_heads", o.num_attention_heads()))
      .intermediate_size(size("intermediate_size", o.intermediate_size()))
      .max_position_embeddings(size("max_position_embeddings", o.max_position_embeddings()))
      .type_vocab_size(size("type_vocab_size", o.type_vocab_size()))
      .hidden_act(s.get_choice("hidden_act", o.hidden_act(), {"gelu", "relu"}))
      .hidden_dropout_prob(s.get_in_range<double>("hidden_dropout_prob", o.hidden_dropout_prob(), 0.0, 1.0))
      .attention_probs_dropout_prob(
          s.get_in_range<double>("attention_probs_dropout_prob", o.attention_probs_dropout_prob(), 0.0, 1.0))
      .layer_norm_eps(s.get_in_range<double>("layer_norm_eps", o.layer_norm_eps(), 1e-30, 1.0))
      .fused_attention(s.get<bool>("fused_attention", o.fused_attention()));
  if (o.hidden_size() % o.num_attention_heads() != 0) {
    s.fail("num_attention_heads",
           fmt::format("must divide hidden_size {}, got {}", o.hidden_size(), o.num_attention_heads()));
  }
  models::BertClassifierOptions classifier(o, s.require<int64_t>("num_classes"));
  if (classifier.num_classes() <= 0)
    s.fail("num_classes", fmt::format("must be positive, got {}", classifier.num_classes()));
  if (s.has("classifier_dropout"))
    classifier.classifier_dropout(s.get_in_range<double>("classifier_dropout", 0.1, 0.0, 1.0));
  s.finish();
  return models::BertClassifier(classifier);
}

std::vector<data::LabeledText> read_labeled_split(const Section& s, const std::string& name, bool required) {
  if (!s.has(name)) {
    if (required) s.fail("name", fmt::format("text classification needs data.{} (TSV: label<TAB>text)", name));
    return {};
  }
  try {
    const auto path = s.require<std::string>(name);
    int64_t skipped = 0;
    auto examples = data::read_labeled_tsv(path, configs::read_invalid_utf8(s), &skipped);
    configs::report_skipped_lines(s, name, path, skipped);
    return examples;
  } catch (const c10::Error& error) {
    s.fail(name, error.what_without_backtrace());
  }
}

train::SequenceClassifier as_sequence_classifier(models::TransformerEncoderClassifier classifier) {
  return {classifier.ptr(), [classifier](const torch::Tensor& tokens, const torch::Tensor& mask) mutable {
            return classifier->forward(tokens, mask);
          }};
}

train::SequenceClassifier as_sequence_classifier(models::BertClassifier classifier) {
  return {classifier.ptr(), [classifier](const torch::Tensor& tokens, const torch::Tensor& mask) mutable {
            return classifier->forward(tokens, mask);
          }};
}

/// What the family needs of either classifier.
struct ClassifierParts {
  train::SequenceClassifier classifier;
  int64_t model_size = 0;
  int64_t num_classes = 0;
  int64_t max_positions = 0;  ///< longest sequence, special tokens included
  int64_t vocab = 0;
  bool cls_pooling = true;
  bool wordpiece = false;      ///< BERT: a WordPiece tokenizer.json, not SentencePiece
  std::string pretrained_dir;  ///< model.init_from's folder, whose tokenizer.json is the default
};

ClassifierParts parts_of(models::TransformerEncoderClassifier model) {
  const auto& o = model->options;
  return {as_sequence_classifier(model),
          o.d_model(),
          o.num_classes(),
          o.max_len(),
          o.vocab(),
          o.pooling() == models::Pooling::kCls,
          false,
          ""};
}

ClassifierParts parts_of(models::BertClassifier model, const std::string& init_from) {
  const auto& o = model->options.bert();
  std::string folder;
  if (!init_from.empty()) {
    const std::filesystem::path path(init_from);
    folder = std::filesystem::is_directory(path) ? path.string() : path.parent_path().string();
  }
  return {as_sequence_classifier(model),
          o.hidden_size(),
          model->options.num_classes(),
          o.max_position_embeddings(),
          o.vocab_size(),
          true,
          true,
          folder};
}

/// The tokenizer of data.tokenizer, trained on the texts of `train` when missing (when `train` is given).
std::shared_ptr<const data::SentencePieceTokenizer> text_tokenizer_of(const Section& data,
                                                                      const std::vector<data::LabeledText>* train,
                                                                      int64_t vocab) {
  std::vector<std::string> texts;
  if (train != nullptr) {
    for (const auto& example : *train) texts.push_back(example.text);
  }
  return configs::single_tokenizer(data, train == nullptr ? nullptr : &texts, vocab);
}

/// The text encoder of the data section: BERT's WordPiece (data.wordpiece, else the pretrained folder's
/// tokenizer.json), or SentencePiece (data.tokenizer, trained on `train`'s texts when missing and given).
train::TextEncoder encoder_of(const Section& data, const ClassifierParts& parts,
                              const std::vector<data::LabeledText>* train) {
  if (!parts.wordpiece) return train::sentencepiece_encoder(text_tokenizer_of(data, train, parts.vocab));
  std::string path;
  if (data.has("wordpiece")) {
    path = data.require<std::string>("wordpiece");
  } else if (!parts.pretrained_dir.empty()) {
    path = (std::filesystem::path(parts.pretrained_dir) / "tokenizer.json").string();
  } else {
    data.fail("wordpiece",
              "a bert_classifier needs its WordPiece tokenizer.json: data.wordpiece, or model.init_from "
              "a Hugging Face folder that holds one");
  }
  std::shared_ptr<data::WordPieceTokenizer> tokenizer;
  try {
    tokenizer = std::make_shared<data::WordPieceTokenizer>(data::WordPieceTokenizer::from_file(path));
  } catch (const c10::Error& error) {
    data.fail(data.has("wordpiece") ? "wordpiece" : "name", error.what_without_backtrace());
  }
  if (tokenizer->vocab_size() != parts.vocab) {
    data.fail(
        data.has("wordpiece") ? "wordpiece" : "name",
        fmt::format("{} has {} pieces but the model's vocab_size is {}", path, tokenizer->vocab_size(), parts.vocab));
  }
  return train::wordpiece_encoder(tokenizer, path);
}

/// The classifier of a text classification config around the (loaded) model: its tokenizer, the
/// classes (data.classes, else the labels of data.train) and data.max_tokens. Reads no texts but the
/// training labels.
train::TextClassifier load_text_classifier(const Section& data, const ClassifierParts& parts) {
  std::vector<std::string> classes;
  if (data.has("classes")) {
    classes = data.require<std::vector<std::string>>("classes");
  } else {
    classes = data::sorted_labels(read_labeled_split(data, "train", true));
  }
  const auto max_tokens = data.get_positive<int64_t>("max_tokens", train::TextClassificationTaskOptions().max_tokens());
  return train::TextClassifier(parts.classifier, encoder_of(data, parts, nullptr), std::move(classes), max_tokens);
}

}  // namespace

std::unique_ptr<train::TextClassificationTask> build_text_classification_task(const Section& s, const Config& config,
                                                                              const ClassifierParts& parts) {
  train::TextClassificationTaskOptions o;
  const auto batching = configs::read_token_batching(s);
  o.batching(batching)
      .max_tokens(s.get_positive<int64_t>("max_tokens", o.max_tokens()))
      .workers(s.get_in_range<int64_t>("workers", o.workers(), 0, 64))
      .prefetch(s.get_positive<int64_t>("prefetch", o.prefetch()))
      .length_buckets(s.get<std::vector<int64_t>>("length_buckets", o.length_buckets()));
  const auto& bounds = o.length_buckets();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (bounds[i] < 1 || (i > 0 && bounds[i] <= bounds[i - 1])) {
      s.fail("length_buckets", fmt::format("must be positive and increasing, got [{}]", fmt::join(bounds, ", ")));
    }
  }
  const int64_t specials = parts.wordpiece ? 2 : 1;  // [CLS] and [SEP], or bos
  if (o.max_tokens() + specials > o.batching().batch_tokens()) {
    s.fail("batch_tokens", fmt::format("must hold one text of max_tokens={} pieces plus {} special tokens, got {}",
                                       o.max_tokens(), specials, o.batching().batch_tokens()));
  }
  if (o.max_tokens() + specials > parts.max_positions) {
    s.fail("max_tokens", fmt::format("must leave room for {} special tokens within the model's {} positions, got {}",
                                     specials, parts.max_positions, o.max_tokens()));
  }
  const auto train_subset = s.get_in_range<int64_t>("train_subset", 0, 0, INT64_MAX);
  const auto valid_subset = s.get_in_range<int64_t>("valid_subset", 0, 0, INT64_MAX);
  auto train = read_labeled_split(s, "train", true);
  auto valid = read_labeled_split(s, "valid", true);
  auto test = read_labeled_split(s, "test", false);
  // Subsets keep every class: examples are taken in a fixed interleaving of the classes' lists.
  const auto subset = [](std::vector<data::LabeledText>& examples, int64_t n) {
    if (n <= 0 || n >= static_cast<int64_t>(examples.size())) return;
    std::map<std::string, std::vector<data::LabeledText>> by_label;
    for (auto& e : examples) by_label[e.label].push_back(std::move(e));
    examples.clear();
    for (size_t i = 0; static_cast<int64_t>(examples.size()) < n; ++i) {
      for (auto& [label, list] : by_label) {
        if (i < list.size() && static_cast<int64_t>(examples.size()) < n) examples.push_back(list[i]);
      }
    }
  };
  subset(train, train_subset);
  subset(valid, valid_subset);
  if (train.empty()) s.fail("train", "the training split holds no examples");
  if (valid.empty()) s.fail("valid", "the validation split holds no examples");
  auto classes = s.get<std::vector<std::string>>("classes", data::sorted_labels(train));
  if (static_cast<int64_t>(classes.size()) != parts.num_classes) {
    s.fail(s.has("classes") ? "classes" : "train",
           fmt::format("the data has {} classes ({}) but model.num_classes is {}", classes.size(),
                       fmt::join(classes, ", "), parts.num_classes));
  }
  auto encoder = encoder_of(s, parts, &train);
  s.finish();

  auto loss = configs::build_loss(config, configs::LossContext{parts.num_classes, /*padding_idx=*/-100});
  std::unique_ptr<train::TextClassificationTask> task;
  try {
    task = std::make_unique<train::TextClassificationTask>(parts.classifier, std::move(encoder), classes, train, valid,
                                                           std::move(loss), o);
  } catch (const c10::Error& error) {
    s.fail(s.has("classes") ? "classes" : "valid", error.what_without_backtrace());
  }
  task->set_test(std::move(test));
  std::cerr << fmt::format(
      "text classification data: {} classes ({}), {} training texts ({} cut to {} pieces), {} valid, {} test, "
      "{} batches of <= {} tokens per epoch\n",
      classes.size(), fmt::join(classes, ", "), task->train_data().size(), task->train_data().cut, o.max_tokens(),
      task->valid_data().size(), task->test_examples().size(), task->batches_per_epoch(), o.batching().batch_tokens());
  return task;
}

/// Either classifier, seen through ClassifierParts.
class TextClassificationModel : public FamilyModel {
 public:
  TextClassificationModel(std::shared_ptr<torch::nn::Module> module, ClassifierParts parts)
      : module_(std::move(module)), parts_(std::move(parts)) {}

  std::shared_ptr<torch::nn::Module> module() const override { return module_; }
  int64_t model_size() const override { return parts_.model_size; }

  std::unique_ptr<train::Task> build_task(const Config& config) const override {
    return build_text_classification_task(data_section(config), config, parts_);
  }

  /// A Hugging Face checkpoint (BertModel's or a BertForSequenceClassification's names) for a
  /// bert_classifier: mapped to torchzoo's names, strictly; the file's classifier.* is kept where its
  /// shapes fit this model's classes, else the freshly initialised head stays (as transformers does).
  void adapt_init_weights(train::NamedTensors& tensors) const override {
    auto bert = std::dynamic_pointer_cast<models::BertClassifierImpl>(module_);
    if (!bert) return;
    for (const auto& [name, tensor] : tensors) {
      if (name.rfind("bert.encoder.layers.", 0) == 0) return;  // a torchzoo export: already our names
    }
    train::NamedTensors head;
    auto state = train::bert_state_from_hf(tensors, *bert->bert, "model.init_from", &head);
    train::NamedTensors adapted;
    for (auto& [name, tensor] : state) adapted.emplace_back("bert." + name, tensor);
    for (const char* name : {"classifier.weight", "classifier.bias"}) {
      torch::Tensor value = bert->named_parameters()[name].detach().clone();
      for (const auto& [head_name, head_tensor] : head) {
        if (head_name == name && head_tensor.sizes() == value.sizes()) value = head_tensor;
      }
      adapted.emplace_back(name, value);
    }
    tensors = std::move(adapted);
  }

  std::pair<train::NamedTensors, std::map<std::string, std::string>> safetensors_export(
      const Config& config) const override {
    auto bert = std::dynamic_pointer_cast<models::BertClassifierImpl>(module_);
    if (!bert) return FamilyModel::safetensors_export(config);
    auto tensors = train::bert_state_to_hf(*bert->bert, "bert.");
    tensors.emplace_back("classifier.weight", bert->classifier->weight);
    tensors.emplace_back("classifier.bias", bert->classifier->bias);
    auto classifier = load_text_classifier(data_section(config), parts_);
    return {tensors,
            {{"config.json", train::hf_bert_config_json(bert->options.bert(), classifier.classes())},
             {"tokenizer.json", data::read_text_file(classifier.encoder().file, "tokenizer")}}};
  }

  train::TorchScriptExportOptions script_export_options(const Config& config) const override {
    auto classifier = load_text_classifier(data_section(config), parts_);
    train::ExtraFiles files;
    files[classifier.encoder().file_name] = data::read_text_file(classifier.encoder().file, "tokenizer");
    files["classes.txt"] = fmt::format("{}\n", fmt::join(classifier.classes(), "\n"));  // line i: class i
    return train::TorchScriptExportOptions().extra_files(files);
  }

  void eval(const Config& config, const EvalRequest& request, std::ostream& out) const override {
    auto texts = build_text_classification_task(data_section(config), config, parts_);
    texts->to(device());
    const bool test = request.split == "test";
    if (test && texts->test_examples().empty()) {
      throw UsageError("--split", "the config's data section names no test split (data.test)");
    }
    auto report = test ? texts->evaluate_on(texts->test_examples()) : texts->evaluate_on(texts->valid_data().text);
    out << fmt::format("eval {} on {} ({} split, {} texts) | accuracy {:.4f}{} | loss {:.4f}\n{}\n{}\n",
                       request.checkpoint, request.config_path, request.split, report.overall.examples,
                       report.overall.accuracy, top5_text(report.overall), report.overall.loss,
                       report.overall.table(texts->classes()), report.by_length_line());
  }

  /// What the pooled vector attends to over the text's tokens, one row per layer (or per head of
  /// one layer) and one for the attention rollout: the class token's attention with cls pooling,
  /// the mean over positions with mean pooling.
  AttentionView attention(const Config& config, const AttentionRequest& request) const override {
    auto classifier = load_text_classifier(data_section(config), parts_);
    const auto ids = classifier.encode(request.input);  // the class token, then the pieces
    models::AttentionRecorder recorder(*module_);
    const auto probabilities = classifier.predict({request.input})[0];  // [classes]
    const bool cls = parts_.cls_pooling;
    std::vector<torch::Tensor> full, pooled;  // [1, h, T, T] and [h, 1, T] per layer
    for (const auto& [name, weights] : recorder.maps()) {
      const auto w = weights.to(torch::kCPU, torch::kFloat);
      full.push_back(w);
      pooled.push_back(cls ? w[0].slice(1, 0, 1) : w[0].mean(1, /*keepdim=*/true));
    }
    const auto [titles, maps] = layer_or_head_maps(pooled, request);  // [n, 1, T]
    const auto rollout = models::attention_rollout(full)[0];          // [T, T]
    const auto rollout_row = cls ? rollout[0] : rollout.mean(0);      // [T]
    AttentionView view;
    view.maps = torch::cat({maps.squeeze(1), rollout_row.unsqueeze(0)}).unsqueeze(0);  // [1, n + 1, T]
    view.map_titles = {cls ? "the class token's attention" : "attention averaged over positions (mean pooling)"};
    view.row_labels = titles;
    view.row_labels.push_back("rollout");
    for (const auto id : ids) view.col_labels.push_back(classifier.encoder().piece_name(id));
    const auto best = probabilities.argmax().item<int64_t>();
    view.title = fmt::format("{} → {} ({:.2f})", request.input, classifier.classes()[static_cast<size_t>(best)],
                             probabilities[best].item<double>());
    return view;
  }

  /// Each line of `in` -> its top classes and probabilities, tab-separated.
  void predict(const Config& config, const PredictRequest& request, std::istream& in, std::ostream& out) const override {
    if (!request.inputs.empty()) {
      throw UsageError("INPUT", "a text classifier reads its texts from stdin, one per line");
    }
    auto classifier = load_text_classifier(data_section(config), parts_);
    const auto lines = data::read_lines(in);
    auto probabilities = classifier.predict(lines);  // [N, classes]
    const auto k = std::min<int64_t>(request.top > 0 ? request.top : 1, probabilities.size(1));
    auto [values, indices] = probabilities.topk(k, -1);
    const auto& classes = classifier.classes();
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string line;
      for (int64_t j = 0; j < k; ++j) {
        const auto c = indices[static_cast<int64_t>(i)][j].item<int64_t>();
        line += fmt::format("{}{}\t{:.4f}", j == 0 ? "" : "\t", classes[static_cast<size_t>(c)],
                            values[static_cast<int64_t>(i)][j].item<double>());
      }
      out << line << '\n';
    }
    out.flush();
  }

 private:
  std::string family_name() const override { return "text_classification"; }

  std::shared_ptr<torch::nn::Module> module_;
  ClassifierParts parts_;
};

}  // namespace text_classification

Family text_classification_family() {
  return {"text_classification",
          "a text classifier",
          {{"transformer_encoder_classifier", "BERT-style encoder-only text classifier (cls or mean pooling)"},
           {"bert_classifier",
            "Hugging Face's BERT with a classification head (BertForSequenceClassification), WordPiece; "
            "init_from a pretrained folder"}},
          {{"text_classification",
            "labelled texts (TSV: label<TAB>text) with SentencePiece or WordPiece, token-budget batches, accuracy "
            "by length"}},
          [](const Section& model) -> std::unique_ptr<FamilyModel> {
            using namespace text_classification;
            if (model.require<std::string>("name") == "bert_classifier") {
              const auto init_from = model.get<std::string>("init_from", "");
              auto bert = build_bert_classifier(model);
              return std::make_unique<TextClassificationModel>(bert.ptr(), parts_of(bert, init_from));
            }
            auto classifier = build_transformer_encoder_classifier(model);
            return std::make_unique<TextClassificationModel>(classifier.ptr(), parts_of(classifier));
          }};
}

}  // namespace torchzoo::families
