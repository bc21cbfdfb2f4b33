// The image-classification family: timm's Vision Transformer
// (model.name: vision_transformer) on MNIST-format IDX data (data.name:
// fashion_mnist or mnist). It evaluates with a per-class report and confusion
// matrix, classifies PNG files and IDX images, and resamples a pretrained
// pos_embed from another patch grid (model.init_from).
#include "torchzoo/families/image_classification.h"

#include <cmath>
#include <map>
#include <ostream>
#include <stdexcept>

#include <torch/nn/functional/upsampling.h>

#include "torchzoo/common/format.h"
#include "torchzoo/configs/builders.h"
#include "torchzoo/configs/model_size.h"
#include "torchzoo/data/idx.h"
#include "torchzoo/data/image_dataset.h"
#include "torchzoo/data/png.h"
#include "torchzoo/models/attention_recorder.h"
#include "torchzoo/models/vision_transformer.h"
#include "torchzoo/train/tasks/image_classification_task.h"

namespace torchzoo::families {
namespace image_classification {
namespace {

models::VisionTransformer build_vision_transformer(const Section& s) {
  models::VisionTransformerOptions o;
  if (auto preset = s.get_optional<std::string>("preset")) {
    try {
      o = models::VisionTransformerOptions::preset(*preset);
    } catch (const c10::Error& error) {
      s.fail("preset", error.what_without_backtrace());
    }
  }
  o.img_size(s.get_positive<int64_t>("img_size", o.img_size()))
      .patch_size(s.get_positive<int64_t>("patch_size", o.patch_size()))
      .in_chans(s.get_positive<int64_t>("in_chans", o.in_chans()))
      .num_classes(s.get_positive<int64_t>("num_classes", o.num_classes()))
      .embed_dim(s.get_positive<int64_t>("embed_dim", o.embed_dim()))
      .depth(s.get_positive<int64_t>("depth", o.depth()))
      .num_heads(s.get_positive<int64_t>("num_heads", o.num_heads()))
      .mlp_ratio(s.get_positive<double>("mlp_ratio", o.mlp_ratio()))
      .qkv_bias(s.get<bool>("qkv_bias", o.qkv_bias()))
      .global_pool(models::global_pool_from_string(s.get_choice("global_pool", models::to_string(o.global_pool()), {"token", "avg"})))
      .drop_rate(s.get_in_range("drop_rate", o.drop_rate(), 0.0, 0.99))
      .attn_drop_rate(s.get_in_range("attn_drop_rate", o.attn_drop_rate(), 0.0, 0.99))
      .drop_path_rate(s.get_in_range("drop_path_rate", o.drop_path_rate(), 0.0, 0.99))
      .fused_attention(s.get<bool>("fused_attention", o.fused_attention()));
  if (auto init_values = s.get_optional<double>("init_values")) {
    if (*init_values <= 0)
      s.fail("init_values", fmt::format("must be positive (LayerScale's initial gain), got {}", *init_values));
    o.init_values(*init_values);
  }
  if (o.img_size() % o.patch_size() != 0) {
    s.fail("patch_size", fmt::format("must divide img_size={}, got {}", o.img_size(), o.patch_size()));
  }
  if (o.embed_dim() % o.num_heads() != 0) {
    s.fail("num_heads", fmt::format("must divide embed_dim={}, got {}", o.embed_dim(), o.num_heads()));
  }
  const double d = static_cast<double>(o.embed_dim()), patch = static_cast<double>(o.patch_size());
  const double patches = std::pow(static_cast<double>(o.img_size()) / patch, 2);
  configs::check_model_fits(
      s,
      d * (static_cast<double>(o.in_chans()) * patch * patch + patches + 1 + static_cast<double>(o.num_classes())) +
          configs::transformer_layers_size(static_cast<double>(o.depth()), d, d * o.mlp_ratio(), 1),
      {{"embed_dim", d},
       {"depth", static_cast<double>(o.depth())},
       {"mlp_ratio", o.mlp_ratio()},
       {"img_size", static_cast<double>(o.img_size())},
       {"patch_size", patch},
       {"in_chans", static_cast<double>(o.in_chans())},
       {"num_classes", static_cast<double>(o.num_classes())}});
  s.finish();
  return models::VisionTransformer(o);
}

/// An input of `predict`: a PNG file, or FILE:INDEX for image INDEX of an IDX images file.
/// `idx_files` keeps each IDX file read so far, so that several indices of one file read it once.
torch::Tensor read_input_image(const std::string& input, int64_t channels, int64_t size,
                               std::map<std::string, torch::Tensor>& idx_files) {
  const auto colon = input.rfind(':');
  torch::Tensor image;  // uint8 [C, H, W]
  if (colon != std::string::npos && colon + 1 < input.size() &&
      input.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    const auto path = input.substr(0, colon);
    const auto index = std::stoll(input.substr(colon + 1));
    auto& images = idx_files[path];  // [N, H, W]
    if (!images.defined()) images = data::read_idx(path, /*expected_dims=*/3);
    if (index >= images.size(0)) {
      throw UsageError("INPUT", fmt::format("'{}' holds {} images; index {} is out of range", path, images.size(0), index));
    }
    image = images[index].unsqueeze(0).expand({channels, -1, -1}).contiguous();
  } else {
    image = data::read_png(input, channels);
  }
  if (image.size(1) != size || image.size(2) != size) {
    // Bilinear resize to the model's input size, with antialiasing when shrinking (as PIL does).
    namespace F = torch::nn::functional;
    image = F::interpolate(image.unsqueeze(0).to(torch::kFloat), F::InterpolateFuncOptions()
                                                                     .size(std::vector<int64_t>{size, size})
                                                                     .mode(torch::kBilinear)
                                                                     .align_corners(false)
                                                                     .antialias(true))
                .squeeze(0)
                .round()
                .clamp(0, 255)
                .to(torch::kUInt8);
  }
  return image;
}

/// How the MNIST-format data is split (the `data` keys valid_size, train_subset, valid_subset).
struct ImageSplitOptions {
  /// The last valid_size training images validate; 0: the test set stands in.
  TORCH_ARG(int64_t, valid_size) = 5000;
  /// Train on the first train_subset training images only; 0: all.
  TORCH_ARG(int64_t, train_subset) = 0;
  /// Validate on the first valid_subset validation images only; 0: all.
  TORCH_ARG(int64_t, valid_subset) = 0;
};

}  // namespace

std::unique_ptr<train::ImageClassificationTask> build_mnist_format_task(const Section& s, const Config& config,
                                                                        models::VisionTransformer vit) {
  const auto& model_options = vit->options;
  const int64_t in_chans = model_options.in_chans(), img_size = model_options.img_size();
  const int64_t num_classes = model_options.num_classes();
  const train::ImageClassifier classifier{vit.ptr(), [vit](const torch::Tensor& images) mutable {
                                            return vit->forward(images);
                                          }};
  const bool fashion = s.require<std::string>("name") == "fashion_mnist";
  const auto root = fashion ? s.get("root", data::kFashionMnistRoot) : s.require<std::string>("root");
  std::vector<std::string> default_classes = data::fashion_mnist_classes();
  if (!fashion) {
    default_classes.clear();
    for (int i = 0; i < 10; ++i) default_classes.push_back(std::to_string(i));
  }
  auto classes = s.get<std::vector<std::string>>("classes", default_classes);
  if (static_cast<int64_t>(classes.size()) != num_classes) {
    s.fail(s.has("classes") ? "classes" : "name",
           fmt::format("the data has {} classes but model.num_classes is {}", classes.size(), num_classes));
  }
  ImageSplitOptions split;
  split.valid_size(s.get_in_range<int64_t>("valid_size", split.valid_size(), 0, INT64_MAX))
      .train_subset(s.get_in_range<int64_t>("train_subset", split.train_subset(), 0, INT64_MAX))
      .valid_subset(s.get_in_range<int64_t>("valid_subset", split.valid_subset(), 0, INT64_MAX));
  const auto valid_size = split.valid_size();
  const auto train_subset = split.train_subset();
  const auto valid_subset = split.valid_subset();
  train::ImageClassificationOptions o;
  data::ImageTransformOptions transform;
  transform.mean(s.get<std::vector<double>>("mean", fashion ? data::kFashionMnistMean : data::kMnistMean))
      .std(s.get<std::vector<double>>("std", fashion ? data::kFashionMnistStd : data::kMnistStd))
      .crop_padding(s.get_in_range<int64_t>("crop_padding", transform.crop_padding(), 0, 64))
      .hflip(s.get<bool>("hflip", transform.hflip()))
      .random_erasing(s.get_in_range<double>("random_erasing", transform.random_erasing(), 0.0, 1.0));
  for (auto value : transform.std()) {
    if (value <= 0) s.fail("std", fmt::format("must be positive, got {}", value));
  }
  o.batch_size(s.get_positive<int64_t>("batch_size", o.batch_size()))
      .eval_batch_size(s.get_positive<int64_t>("eval_batch_size", o.eval_batch_size()))
      .workers(s.get_in_range<int64_t>("workers", o.workers(), 0, 64))
      .prefetch(s.get_positive<int64_t>("prefetch", o.prefetch()))
      .seed(static_cast<uint64_t>(s.get_in_range<int64_t>("seed", static_cast<int64_t>(o.seed()), 0, INT64_MAX)))
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
  if (images.size(1) != in_chans || images.size(2) != img_size || images.size(3) != img_size) {
    s.fail("name",
           fmt::format("the images are [{}, {}, {}] but the model takes [{}, {}, {}] (model.in_chans, "
                       "model.img_size)",
                       images.size(1), images.size(2), images.size(3), in_chans, img_size, img_size));
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

  auto loss = configs::build_loss(config, configs::LossContext{num_classes, /*padding_idx=*/-100});
  return std::make_unique<train::ImageClassificationTask>(classifier, std::move(train), std::move(valid),
                                                          std::move(test), std::move(loss), o);
}

class ImageClassificationModel : public FamilyModelOf<models::VisionTransformer> {
 public:
  using FamilyModelOf::FamilyModelOf;

  int64_t model_size() const override { return model_->options.embed_dim(); }

  std::unique_ptr<train::Task> build_task(const Config& config) const override {
    return build_mnist_format_task(data_section(config), config, model_);
  }

  void adapt_init_weights(train::NamedTensors& tensors) const override {
    // Weights trained on another image size: pos_embed resampled to this model's patch grid, as timm does.
    for (auto& [name, tensor] : tensors) {
      if (name == "pos_embed") tensor = models::fit_pos_embed(*model_, tensor);
    }
  }

  void eval(const Config& config, const EvalRequest& request, std::ostream& out) const override {
    auto task = build_mnist_format_task(data_section(config), config, model_);
    task->to(device());
    const bool test = request.split == "test";
    const auto& dataset = test ? task->test_set() : task->valid_set();
    auto report = task->evaluate_on(dataset);
    out << fmt::format("eval {} on {} ({} split, {} images) | accuracy {:.4f}{} | loss {:.4f}\n{}\n",
                       request.checkpoint, request.config_path, test ? "test" : task->options().valid_name(),
                       dataset.size(), report.accuracy, top5_text(report), report.loss, report.table(task->classes()));
  }

  /// The class token's attention over the patches (each layer's mean over heads, or one layer's
  /// heads) and the attention rollout through all layers, over the image.
  AttentionView attention(const Config& config, const AttentionRequest& request) const override {
    auto task = build_mnist_format_task(data_section(config), config, model_);
    task->to(device());
    const auto& sample = task->test_set().size() > 0 ? task->test_set() : task->valid_set();
    std::map<std::string, torch::Tensor> idx_files;
    const auto image = read_input_image(request.input, sample.images.size(1), sample.images.size(2), idx_files);
    models::AttentionRecorder recorder(*model_.ptr());
    const auto probabilities = task->predict(image.unsqueeze(0))[0];  // [classes]
    const int64_t grid = model_->options.img_size() / model_->options.patch_size();
    std::vector<torch::Tensor> full, class_rows;  // [1, h, N, N] and [h, grid, grid] per layer
    for (const auto& [name, weights] : recorder.maps()) {
      const auto w = weights.to(torch::kCPU, torch::kFloat);
      const int64_t prefix = w.size(3) - grid * grid;  // the class token (timm: and any register tokens)
      full.push_back(w);
      class_rows.push_back(w[0].select(1, 0).slice(1, prefix).reshape({-1, grid, grid}));
    }
    AttentionView view;
    std::tie(view.map_titles, view.maps) = layer_or_head_maps(class_rows, request);
    const auto rollout = models::attention_rollout(full)[0][0];  // [N]: what reaches the class token
    view.maps = torch::cat({view.maps, rollout.slice(0, rollout.size(0) - grid * grid).reshape({1, grid, grid})});
    view.map_titles.push_back(fmt::format("attention rollout ({} layers)", full.size()));
    view.image = image.to(torch::kFloat) / 255.0;
    const auto best = probabilities.argmax().item<int64_t>();
    view.title = fmt::format("class token's attention | {} → {} ({:.2f})", request.input,
                             task->classes()[static_cast<size_t>(best)], probabilities[best].item<double>());
    return view;
  }

  void predict(const Config& config, const PredictRequest& request, std::istream&, std::ostream& out) const override {
    const auto& inputs = request.inputs;
    if (inputs.empty()) throw UsageError("INPUT", "an image classifier needs PNG files or IDX_FILE:INDEX inputs");
    auto task = build_mnist_format_task(data_section(config), config, model_);
    task->to(device());
    const auto& sample = task->test_set().size() > 0 ? task->test_set() : task->valid_set();
    const auto channels = sample.images.size(1), size = sample.images.size(2);
    std::vector<torch::Tensor> images;
    std::map<std::string, torch::Tensor> idx_files;
    for (const auto& input : inputs) images.push_back(read_input_image(input, channels, size, idx_files));
    auto probabilities = task->predict(torch::stack(images));  // [N, classes]
    const auto k = std::min<int64_t>(request.top > 0 ? request.top : 3, probabilities.size(1));
    auto [values, indices] = probabilities.topk(k, -1);
    const auto& classes = task->classes();
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::string line = inputs[i] + ":";
      for (int64_t j = 0; j < k; ++j) {
        const auto c = indices[static_cast<int64_t>(i)][j].item<int64_t>();
        line += fmt::format("{} {} ({:.4f})", j == 0 ? "" : " |", classes[static_cast<size_t>(c)],
                            values[static_cast<int64_t>(i)][j].item<double>());
      }
      out << line << "\n";
    }
  }

 private:
  std::string family_name() const override { return "image_classification"; }
};

}  // namespace image_classification

Family image_classification_family() {
  return {"image_classification",
          "an image classifier",
          {{"vision_transformer", "ViT image classifier with timm's names (preset: vit_tiny, vit_small, vit_mini)"}},
          {{"fashion_mnist", "Fashion-MNIST image classification (IDX files; Debian package dataset-fashion-mnist)"},
           {"mnist", "MNIST-format image classification from data.root (IDX files)"}},
          [](const Section& model) -> std::unique_ptr<FamilyModel> {
            return std::make_unique<image_classification::ImageClassificationModel>(
                image_classification::build_vision_transformer(model));
          }};
}

}  // namespace torchzoo::families
