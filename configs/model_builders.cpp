#include "torchzoo/configs/builders.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/models/encoder_decoder.h"

namespace torchzoo::configs {

std::shared_ptr<torch::nn::Module> build_encoder_decoder(const Section& s) {
  models::EncoderDecoderOptions o(s.require<int64_t>("src_vocab"), s.require<int64_t>("tgt_vocab"));
  if (o.src_vocab() <= 0) s.fail("src_vocab", fmt::format("must be positive, got {}", o.src_vocab()));
  if (o.tgt_vocab() <= 0) s.fail("tgt_vocab", fmt::format("must be positive, got {}", o.tgt_vocab()));
  o.num_layers(s.get_positive<int64_t>("num_layers", o.num_layers()))
      .d_model(s.get_positive<int64_t>("d_model", o.d_model()))
      .d_ff(s.get_positive<int64_t>("d_ff", o.d_ff()))
      .num_heads(s.get_positive<int64_t>("num_heads", o.num_heads()))
      .dropout(s.get_in_range("dropout", o.dropout(), 0.0, 0.99))
      .attention_dropout(s.get_in_range("attention_dropout", o.attention_dropout(), 0.0, 0.99))
      .activation(layers::activation_from_string(s.get_choice("activation", "relu", {"relu", "gelu"})))
      .norm_first(s.get<bool>("norm_first", o.norm_first()))
      .layer_norm_eps(s.get_positive<double>("layer_norm_eps", o.layer_norm_eps()))
      .use_torch_layer_norm(s.get<bool>("use_torch_layer_norm", o.use_torch_layer_norm()))
      .fused_attention(s.get<bool>("fused_attention", o.fused_attention()))
      .max_len(s.get_positive<int64_t>("max_len", o.max_len()));
  if (o.d_model() % o.num_heads() != 0) {
    s.fail("num_heads", fmt::format("must divide d_model={}, got {}", o.d_model(), o.num_heads()));
  }
  if (o.d_model() % 2 != 0) s.fail("d_model", fmt::format("must be even (sinusoidal positions), got {}", o.d_model()));
  s.finish();
  return models::EncoderDecoder(o).ptr();
}

}  // namespace torchzoo::configs
