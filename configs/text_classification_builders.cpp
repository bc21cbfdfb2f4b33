// data.name: text_classification -- labelled texts ("label<TAB>text" TSV
// files, e.g. from `torchzoo data prepare libreoffice-langid`), a SentencePiece
// model trained on the training texts when missing, and the
// TextClassificationTask around a TransformerEncoderClassifier.
#include <iostream>
#include <map>

#include "torchzoo/configs/builders.h"
#include "torchzoo/configs/experiment.h"
#include "torchzoo/data/labeled_text.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/models/transformer_encoder_classifier.h"
#include "torchzoo/train/text_classification_task.h"

namespace torchzoo::configs {
namespace {

/// The examples of split `name` (a TSV file), or none when the optional split is not given.
std::vector<data::LabeledText> read_labeled_split(const Section& s, const std::string& name, bool required) {
  if (!s.has(name)) {
    if (required) s.fail("name", fmt::format("text classification needs data.{} (TSV: label<TAB>text)", name));
    return {};
  }
  try {
    return data::read_labeled_tsv(s.require<std::string>(name));
  } catch (const c10::Error& error) {
    s.fail(name, error.what_without_backtrace());
  }
}

models::TransformerEncoderClassifier require_text_classifier(const Section& data,
                                                             const std::shared_ptr<torch::nn::Module>& model) {
  auto classifier = std::dynamic_pointer_cast<models::TransformerEncoderClassifierImpl>(model);
  if (!classifier) {
    data.fail("name", fmt::format("data 'text_classification' trains a transformer_encoder_classifier model, got a {}",
                                  model->name()));
  }
  return models::TransformerEncoderClassifier(classifier);
}

/// The classifier as the task and TextClassifier call it.
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
  return single_tokenizer(data, train == nullptr ? nullptr : &texts, vocab);
}

}  // namespace

std::unique_ptr<train::Task> build_text_classification_task(const Section& s, const Config& config,
                                                            std::shared_ptr<torch::nn::Module> model) {
  auto classifier = require_text_classifier(s, model);
  train::TextClassificationTaskOptions o;
  const auto batching = read_token_batching(s);
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

  auto loss = build_loss(config, LossContext{classifier->options.num_classes(), /*padding_idx=*/-100});
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

train::TextClassifier load_text_classifier(const Config& config, std::shared_ptr<torch::nn::Module> model) {
  auto data = config.section("data");
  if (data.require<std::string>("name") != "text_classification") {
    data.fail("name", "expected a text classification config (data.name: text_classification)");
  }
  auto classifier = require_text_classifier(data, model);
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

}  // namespace torchzoo::configs
