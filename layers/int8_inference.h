#pragma once
// Int8 inference for a whole model: dynamic quantization of its Transformer
// linears (attention projections, feed-forwards, generator), as
// torch.ao.quantization.quantize_dynamic does for nn.Linear and CTranslate2's
// compute_type "int8". Weights are quantized per output row once and kept
// beside the float parameters, which stay as they are (training, checkpoints
// and exports are unaffected); inputs are quantized at each call. Applies to
// inference on the CPU in float32 (no gradients, no autocast); elsewhere the
// linears run as before. See detail/packed_linear.h.
//
// Example:
//   auto model = ...;                                    // a trained EncoderDecoder
//   layers::set_int8_inference(*model, true);            // before translating
#include <torch/nn/module.h>

#include <cstdint>

namespace torchzoo::layers {

/// Whether this LibTorch can run int8 linears (FBGEMM's quantized engine).
bool int8_inference_available();

/// Switches every MultiHeadedAttention, PositionwiseFeedForward and Generator under `root` (itself
/// included) to int8 linears, or back to float32 with false; returns how many modules it switched.
/// Throws where int8 is asked for and unavailable.
int64_t set_int8_inference(torch::nn::Module& root, bool on);

}  // namespace torchzoo::layers
