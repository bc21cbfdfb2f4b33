// The text-classification family: a BERT-style encoder-only classifier
// (model.name: transformer_encoder_classifier) on labelled texts with
// SentencePiece (data.name: text_classification). It evaluates with accuracy by
// text length, classifies stdin lines, and exports its tokenizer and classes.
#include "torchzoo/families/text_classification.h"

#include <iostream>
#include <map>
#include <stdexcept>

#include "torchzoo/common/format.h"
#include "torchzoo/configs/builders.h"
#include "torchzoo/configs/model_keys.h"
#include "torchzoo/data/labeled_text.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/models/attention_recorder.h"
#include "torchzoo/models/transformer_encoder_classifier.h"
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

/// The classifier of a text classification config around `classifier` (loaded weights): the
/// SentencePiece model training wrote, the classes (data.classes, else the labels of data.train)
/// and data.max_tokens. Reads no texts but the training labels.
train::TextClassifier load_text_classifier(const Section& data, models::TransformerEncoderClassifier classifier) {
  // The classes as training named them: data.classes, else the labels of the training file.
  std::vector<std::string> classes;
  if (data.has("classes")) {
    classes = data.require<std::vector<std::string>>("classes");
  } else {
    classes = data::sorted_labels(read_labeled_split(data, "train", true));
  }
  const auto max_tokens = data.get_positive<int64_t>("max_tokens", train::TextClassificationTaskOptions().max_tokens());
  auto tokenizer = text_tokenizer_of(data, nullptr, classifier->options.vocab());
  return train::TextClassifier(as_sequence_classifier(classifier), std::move(tokenizer), std::move(classes),
                               max_tokens);
}

}  // namespace

std::unique_ptr<train::TextClassificationTask> build_text_classification_task(
    const Section& s, const Config& config, models::TransformerEncoderClassifier classifier) {
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
  if (o.max_tokens() + 1 > o.batching().batch_tokens()) {
    s.fail("batch_tokens", fmt::format("must hold one text of max_tokens={} pieces plus the class token, got {}",
                                       o.max_tokens(), o.batching().batch_tokens()));
  }
  if (o.max_tokens() + 1 > classifier->options.max_len()) {
    s.fail("max_tokens", fmt::format("must leave room for the class token within model.max_len={}, got {}",
                                     classifier->options.max_len(), o.max_tokens()));
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
  if (static_cast<int64_t>(classes.size()) != classifier->options.num_classes()) {
    s.fail(s.has("classes") ? "classes" : "train",
           fmt::format("the data has {} classes ({}) but model.num_classes is {}", classes.size(),
                       fmt::join(classes, ", "), classifier->options.num_classes()));
  }
  auto tokenizer = text_tokenizer_of(s, &train, classifier->options.vocab());
  s.finish();

  auto loss = configs::build_loss(config, configs::LossContext{classifier->options.num_classes(), /*padding_idx=*/-100});
  std::unique_ptr<train::TextClassificationTask> task;
  try {
    task = std::make_unique<train::TextClassificationTask>(as_sequence_classifier(classifier), tokenizer, classes,
                                                           train, valid, std::move(loss), o);
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

class TextClassificationModel : public FamilyModelOf<models::TransformerEncoderClassifier> {
 public:
  using FamilyModelOf::FamilyModelOf;

  int64_t model_size() const override { return model_->options.d_model(); }

  std::unique_ptr<train::Task> build_task(const Config& config) const override {
    return build_text_classification_task(data_section(config), config, model_);
  }

  train::TorchScriptExportOptions script_export_options(const Config& config) const override {
    auto classifier = load_text_classifier(data_section(config), model_);
    train::ExtraFiles files;
    files["tokenizer.model"] = data::read_text_file(classifier.tokenizer().path(), "tokenizer");
    files["classes.txt"] = fmt::format("{}\n", fmt::join(classifier.classes(), "\n"));  // line i: class i
    return train::TorchScriptExportOptions().extra_files(files);
  }

  void eval(const Config& config, const EvalRequest& request, std::ostream& out) const override {
    auto texts = build_text_classification_task(data_section(config), config, model_);
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
    auto classifier = load_text_classifier(data_section(config), model_);
    const auto ids = classifier.encode(request.input);  // bos, then the pieces
    models::AttentionRecorder recorder(*model_.ptr());
    const auto probabilities = classifier.predict({request.input})[0];  // [classes]
    const bool cls = model_->options.pooling() == models::Pooling::kCls;
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
    for (const auto id : ids) view.col_labels.push_back(classifier.tokenizer().id_to_piece(id));
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
    auto classifier = load_text_classifier(data_section(config), model_);
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
};

}  // namespace text_classification

Family text_classification_family() {
  return {"text_classification",
          "a text classifier",
          {"transformer_encoder_classifier", "BERT-style encoder-only text classifier (cls or mean pooling)"},
          {{"text_classification",
            "labelled texts (TSV: label<TAB>text) with SentencePiece, token-budget batches, accuracy by length"}},
          [](const Section& model) -> std::unique_ptr<FamilyModel> {
            return std::make_unique<text_classification::TextClassificationModel>(
                text_classification::build_transformer_encoder_classifier(model));
          }};
}

}  // namespace torchzoo::families
