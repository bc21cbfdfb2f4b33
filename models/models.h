#pragma once
// Umbrella header: every torchzoo model.
#include "torchzoo/models/attention_recorder.h"
#include "torchzoo/models/bert.h"
#include "torchzoo/models/decoder_only_lm.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/models/transformer_encoder_classifier.h"
#include "torchzoo/models/vision_transformer.h"
