#include "torchzoo/data/image_dataset.h"

#include <filesystem>

#include "torchzoo/data/idx.h"
#include "torchzoo/common/check.h"

namespace torchzoo::data {
namespace {

/// root/name.gz if present, else root/name; an error lists both when neither is.
std::string find_idx_file(const std::string& root, const std::string& name) {
  const auto base = std::filesystem::path(root) / name;
  for (const auto& candidate : {base.string() + ".gz", base.string()}) {
    if (std::filesystem::is_regular_file(candidate)) return candidate;
  }
  TORCHZOO_CHECK(false, "MNIST-format data: neither '{}.gz' nor '{}' exists{}", base.string(), base.string(),
                 std::filesystem::is_directory(root) ? "" : fmt::format(" (no folder '{}')", root));
}

}  // namespace

ImageDataset ImageDataset::slice(int64_t begin, int64_t end) const {
  return ImageDataset{images.slice(0, begin, end), labels.slice(0, begin, end), classes};
}

std::vector<std::string> fashion_mnist_classes() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
}

ImageDataset load_mnist_format(const std::string& root, const std::string& split, std::vector<std::string> classes) {
  TORCHZOO_CHECK(split == "train" || split == "test", "load_mnist_format: split must be train or test, got '{}'",
                 split);
  const std::string prefix = split == "train" ? "train" : "t10k";
  const auto images_path = find_idx_file(root, prefix + "-images-idx3-ubyte");
  const auto labels_path = find_idx_file(root, prefix + "-labels-idx1-ubyte");
  auto images = read_idx(images_path, /*expected_dims=*/3);  // [N, H, W]
  auto labels = read_idx(labels_path, /*expected_dims=*/1);  // [N]
  TORCHZOO_CHECK(images.size(0) == labels.size(0), "MNIST-format data: '{}' has {} images but '{}' has {} labels",
                 images_path, images.size(0), labels_path, labels.size(0));
  TORCHZOO_CHECK(images.size(0) > 0, "MNIST-format data: '{}' holds no images", images_path);
  const auto max_label = labels.max().item<int64_t>();
  TORCHZOO_CHECK(max_label < static_cast<int64_t>(classes.size()),
                 "MNIST-format data: '{}' has label {}, but there are {} classes", labels_path, max_label,
                 classes.size());
  return ImageDataset{images.unsqueeze(1), labels.to(torch::kInt64), std::move(classes)};
}

}  // namespace torchzoo::data
