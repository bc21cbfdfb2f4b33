#pragma once
// The language-model family (families/language_model.cpp): decoder_only_lm
// models on monolingual text.
#include "torchzoo/families/family.h"

namespace torchzoo::families {

/// The language-model family: model `decoder_only_lm` (models::DecoderOnlyLM), data `language_model`
/// (monolingual text, one text per line).
Family language_model_family();

}  // namespace torchzoo::families
