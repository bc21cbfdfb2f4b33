#pragma once
// The translation family (families/translation.cpp): encoder_decoder models on
// the copy task or a parallel corpus.
#include "torchzoo/families/family.h"

namespace torchzoo::families {

Family translation_family();

}  // namespace torchzoo::families
