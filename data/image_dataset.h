#pragma once
// Labelled image sets in memory, read from MNIST-format IDX folders
// (MNIST, Fashion-MNIST, KMNIST, ...): train-images-idx3-ubyte[.gz],
// train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz].
#include <string>
#include <vector>

#include <torch/types.h>

namespace torchzoo::data {

/// A labelled image set in memory (e.g. one split of an MNIST-format folder, load_mnist_format).
struct ImageDataset {
  torch::Tensor images;              ///< uint8 [N, C, H, W]
  torch::Tensor labels;              ///< int64 [N], in [0, classes.size())
  std::vector<std::string> classes;  ///< class names, index = label

  /// Examples N (0 when empty).
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  /// Examples [begin, end) as a new view.
  ImageDataset slice(int64_t begin, int64_t end) const;
};

/// Where the Debian package dataset-fashion-mnist puts the files.
inline const char* kFashionMnistRoot = "/usr/share/datasets/fashion-mnist";

/// Fashion-MNIST's ten class names (Xiao et al. 2017).
std::vector<std::string> fashion_mnist_classes();

/// Mean and standard deviation of the training pixels scaled to [0, 1], per channel: the usual
/// normalisation constants of Fashion-MNIST and of MNIST (as in torchvision's examples).
inline const std::vector<double> kFashionMnistMean = {0.2860};
inline const std::vector<double> kFashionMnistStd = {0.3530};
inline const std::vector<double> kMnistMean = {0.1307};
inline const std::vector<double> kMnistStd = {0.3081};

/// Split "train" (train-*) or "test" (t10k-*) of the MNIST-format folder `root`,
/// gzipped or plain. Checks that images are [N, H, W], labels [N] with the same N,
/// and every label < classes.size(); errors name the file.
ImageDataset load_mnist_format(const std::string& root, const std::string& split, std::vector<std::string> classes);

}  // namespace torchzoo::data
