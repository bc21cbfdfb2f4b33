#include "torchzoo/configs/builders.h"
#include "torchzoo/data/copy_task.h"
#include "torchzoo/data/image_dataset.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/models/vision_transformer.h"
#include "torchzoo/train/image_classification_task.h"
#include "torchzoo/train/seq2seq_task.h"

namespace torchzoo::configs {
namespace {

/// The model as an EncoderDecoder, or an error at data.name saying which model family it needs.
models::EncoderDecoder require_encoder_decoder(const Section& data, const std::shared_ptr<torch::nn::Module>& model) {
  auto seq2seq = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(model);
  if (!seq2seq) {
    data.fail("name", fmt::format("data '{}' trains a sequence-to-sequence model (model.name: encoder_decoder), "
                                  "got a {}",
                                  data.require<std::string>("name"), model->name()));
  }
  return models::EncoderDecoder(seq2seq);
}

/// The model as an image classifier (its forward and expected input), or an error at data.name.
struct ClassifierShape {
  train::ImageClassifier classifier;
  int64_t in_chans = 0, img_size = 0, num_classes = 0;
};

ClassifierShape require_image_classifier(const Section& data, const std::shared_ptr<torch::nn::Module>& model) {
  if (auto vit = std::dynamic_pointer_cast<models::VisionTransformerImpl>(model)) {
    return {train::ImageClassifier{vit, [vit](const torch::Tensor& images) { return vit->forward(images); }},
            vit->options.in_chans(), vit->options.img_size(), vit->options.num_classes()};
  }
  data.fail("name", fmt::format("data '{}' trains an image classifier (model.name: vision_transformer), got a {}",
                                data.require<std::string>("name"), model->name()));
}

}  // namespace

train::TokenLoss build_loss(const Config& config, const LossContext& context) {
  auto loss = config.section("loss");
  return lookup(loss_registry(), loss)(loss, context);
}

std::unique_ptr<train::Task> build_copy_task(const Section& s, const Config& config,
                                             std::shared_ptr<torch::nn::Module> model) {
  auto encoder_decoder = require_encoder_decoder(s, model);
  data::CopyTaskOptions o;
  o.vocab(s.get_positive<int64_t>("vocab", o.vocab()))
      .seq_len(s.get_positive<int64_t>("seq_len", o.seq_len()))
      .batch_size(s.get_positive<int64_t>("batch_size", o.batch_size()))
      .start_symbol(s.get<int64_t>("start_symbol", o.start_symbol()))
      .pad(s.get<int64_t>("pad", o.pad()))
      .train_batches(s.get_positive<int64_t>("train_batches", o.train_batches()))
      .valid_batches(s.get_positive<int64_t>("valid_batches", o.valid_batches()))
      .seed(static_cast<uint64_t>(s.get_in_range<int64_t>("seed", 1, 0, INT64_MAX)));
  const auto& model_options = encoder_decoder->options;
  if (o.vocab() > model_options.src_vocab() || o.vocab() > model_options.tgt_vocab()) {
    s.fail("vocab", fmt::format("must not exceed the model's vocabularies (src_vocab={}, tgt_vocab={}), got {}",
                                model_options.src_vocab(), model_options.tgt_vocab(), o.vocab()));
  }
  if (o.start_symbol() <= 0 || o.start_symbol() >= o.vocab()) {
    s.fail("start_symbol", fmt::format("must lie in [1, vocab={}), got {}", o.vocab(), o.start_symbol()));
  }
  s.finish();

  train::Seq2SeqSample sample;
  sample.start_symbol = o.start_symbol();
  sample.max_len = o.seq_len();
  sample.expect_copy = true;
  if (auto section = config.root().optional_section("sample")) {
    sample.src = section->get<std::vector<int64_t>>("src", {});
    sample.max_len = section->get_positive<int64_t>("max_len", static_cast<int64_t>(sample.src.size()));
    for (auto token : sample.src) {
      if (token < 0 || token >= o.vocab()) {
        section->fail("src", fmt::format("tokens must lie in [0, vocab={}), got {}", o.vocab(), token));
      }
    }
    section->finish();
  }

  auto loss = build_loss(config, LossContext{model_options.tgt_vocab(), o.pad()});
  return std::make_unique<train::Seq2SeqTask>(encoder_decoder, std::make_shared<data::CopyTask>(o), std::move(loss),
                                              sample);
}

}  // namespace torchzoo::configs

namespace torchzoo::configs {

std::unique_ptr<train::Task> build_mnist_format_task(const Section& s, const Config& config,
                                                     std::shared_ptr<torch::nn::Module> model) {
  auto shape = require_image_classifier(s, model);
  const bool fashion = s.require<std::string>("name") == "fashion_mnist";
  const auto root = fashion ? s.get("root", data::kFashionMnistRoot) : s.require<std::string>("root");
  std::vector<std::string> default_classes = data::fashion_mnist_classes();
  if (!fashion) {
    default_classes.clear();
    for (int i = 0; i < 10; ++i) default_classes.push_back(std::to_string(i));
  }
  auto classes = s.get<std::vector<std::string>>("classes", default_classes);
  if (static_cast<int64_t>(classes.size()) != shape.num_classes) {
    s.fail(s.has("classes") ? "classes" : "name",
           fmt::format("the data has {} classes but model.num_classes is {}", classes.size(), shape.num_classes));
  }
  const auto valid_size = s.get_in_range<int64_t>("valid_size", 5000, 0, INT64_MAX);
  const auto train_subset = s.get_in_range<int64_t>("train_subset", 0, 0, INT64_MAX);
  const auto valid_subset = s.get_in_range<int64_t>("valid_subset", 0, 0, INT64_MAX);
  train::ImageClassificationOptions o;
  data::ImageTransformOptions transform;
  transform
      .mean(s.get<std::vector<double>>("mean", fashion ? std::vector<double>{0.2860} : std::vector<double>{0.1307}))
      .std(s.get<std::vector<double>>("std", fashion ? std::vector<double>{0.3530} : std::vector<double>{0.3081}))
      .crop_padding(s.get_in_range<int64_t>("crop_padding", 0, 0, 64))
      .hflip(s.get<bool>("hflip", false));
  for (auto value : transform.std()) {
    if (value <= 0) s.fail("std", fmt::format("must be positive, got {}", value));
  }
  o.batch_size(s.get_positive<int64_t>("batch_size", o.batch_size()))
      .eval_batch_size(s.get_positive<int64_t>("eval_batch_size", o.eval_batch_size()))
      .workers(s.get_in_range<int64_t>("workers", o.workers(), 0, 64))
      .prefetch(s.get_positive<int64_t>("prefetch", o.prefetch()))
      .seed(static_cast<uint64_t>(s.get_in_range<int64_t>("seed", 1, 0, INT64_MAX)))
      .transform(transform);
  s.finish();

  data::ImageDataset train_all, test;
  try {
    train_all = data::load_mnist_format(root, "train", classes);
    test = data::load_mnist_format(root, "test", classes);
  } catch (const c10::Error& error) {
    s.fail(s.has("root") ? "root" : "name", error.what_without_backtrace());
  }
  const auto& images = train_all.images;  // [N, C, H, W]
  if (images.size(1) != shape.in_chans || images.size(2) != shape.img_size || images.size(3) != shape.img_size) {
    s.fail("name",
           fmt::format("the images are [{}, {}, {}] but the model takes [{}, {}, {}] (model.in_chans, "
                       "model.img_size)",
                       images.size(1), images.size(2), images.size(3), shape.in_chans, shape.img_size, shape.img_size));
  }
  if (valid_size >= train_all.size()) {
    s.fail("valid_size",
           fmt::format("must be smaller than the {} training images, got {}", train_all.size(), valid_size));
  }
  // The validation split is the last valid_size training images (0: the test set stands in for it).
  auto train = train_all.slice(0, train_all.size() - valid_size);
  auto valid = valid_size > 0 ? train_all.slice(train_all.size() - valid_size, train_all.size()) : test;
  o.valid_name(valid_size > 0 ? "valid" : "test");
  if (train_subset > 0) train = train.slice(0, std::min(train_subset, train.size()));
  if (valid_subset > 0) valid = valid.slice(0, std::min(valid_subset, valid.size()));
  if (train.size() < o.batch_size()) {
    s.fail("batch_size", fmt::format("exceeds the {} training images", train.size()));
  }

  auto loss = build_loss(config, LossContext{shape.num_classes, /*padding_idx=*/-100});
  return std::make_unique<train::ImageClassificationTask>(shape.classifier, std::move(train), std::move(valid),
                                                          std::move(test), std::move(loss), o);
}

}  // namespace torchzoo::configs
