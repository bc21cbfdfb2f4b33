#pragma once
// The translation family (families/translation.cpp): encoder_decoder models on
// the copy task or a parallel corpus.
#include "torchzoo/families/family.h"

namespace torchzoo::families {

/// The translation family: model `encoder_decoder` (models::EncoderDecoder), data `copy_task` and
/// `translation` (a parallel corpus).
Family translation_family();

}  // namespace torchzoo::families
