#pragma once
// The text-classification family (families/text_classification.cpp):
// transformer_encoder_classifier models on labelled texts.
#include "torchzoo/families/family.h"

namespace torchzoo::families {

Family text_classification_family();

}  // namespace torchzoo::families
