#pragma once
// The text-classification family (families/text_classification.cpp):
// transformer_encoder_classifier models on labelled texts.
#include "torchzoo/families/family.h"

namespace torchzoo::families {

/// The text-classification family: model `transformer_encoder_classifier`
/// (models::TransformerEncoderClassifier), data `text_classification` (labelled TSV texts).
Family text_classification_family();

}  // namespace torchzoo::families
