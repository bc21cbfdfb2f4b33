#include "torchzoo/layers/int8_inference.h"

#include "torchzoo/common/check.h"
#include "torchzoo/layers/detail/packed_linear.h"
#include "torchzoo/layers/generator.h"
#include "torchzoo/layers/multi_headed_attention.h"
#include "torchzoo/layers/positionwise_feed_forward.h"

namespace torchzoo::layers {

bool int8_inference_available() { return detail::PackedLinear::int8_available(); }

int64_t set_int8_inference(torch::nn::Module& root, bool on) {
  TORCHZOO_CHECK(!on || int8_inference_available(),
                 "int8 inference: this LibTorch has no FBGEMM quantized engine (quantized::linear_dynamic)");
  int64_t switched = 0;
  for (const auto& module : root.modules(/*include_self=*/true)) {
    if (auto* attention = module->as<MultiHeadedAttentionImpl>()) {
      attention->set_int8_inference(on);
    } else if (auto* feed_forward = module->as<PositionwiseFeedForwardImpl>()) {
      feed_forward->set_int8_inference(on);
    } else if (auto* generator = module->as<GeneratorImpl>()) {
      generator->set_int8_inference(on);
    } else {
      continue;
    }
    ++switched;
  }
  return switched;
}

}  // namespace torchzoo::layers
