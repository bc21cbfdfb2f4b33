#pragma once
// The image-classification family (families/image_classification.cpp):
// vision_transformer models on MNIST-format data.
#include "torchzoo/families/family.h"

namespace torchzoo::families {

Family image_classification_family();

}  // namespace torchzoo::families
