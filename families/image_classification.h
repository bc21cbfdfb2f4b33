#pragma once
// The image-classification family (families/image_classification.cpp):
// vision_transformer models on MNIST-format data.
#include "torchzoo/families/family.h"

namespace torchzoo::families {

/// The image-classification family: model `vision_transformer` (models::VisionTransformer), data
/// `fashion_mnist` and `mnist` (MNIST-format IDX folders).
Family image_classification_family();

}  // namespace torchzoo::families
