#include "torchzoo/configs/builders.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/models/decoder_only_lm.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/models/transformer_encoder_classifier.h"
#include "torchzoo/models/vision_transformer.h"

namespace torchzoo::configs {
namespace model_keys {

/// The keys every Transformer stack shares, read into a model's Options (the fields
/// layers::layer_options_of reads, plus num_layers and max_len); then checks that num_heads
/// divides d_model.
template <class ModelOptions>
void read_transformer_stack(const Section& s, ModelOptions& o) {
  const auto activation_name = o.activation() == layers::Activation::kGelu ? "gelu" : "relu";
  o.num_layers(s.get_positive<int64_t>("num_layers", o.num_layers()))
      .d_model(s.get_positive<int64_t>("d_model", o.d_model()))
      .d_ff(s.get_positive<int64_t>("d_ff", o.d_ff()))
      .num_heads(s.get_positive<int64_t>("num_heads", o.num_heads()))
      .dropout(s.get_in_range("dropout", o.dropout(), 0.0, 0.99))
      .attention_dropout(s.get_in_range("attention_dropout", o.attention_dropout(), 0.0, 0.99))
      .activation(layers::activation_from_string(s.get_choice("activation", activation_name, {"relu", "gelu"})))
      .layer_norm_eps(s.get_positive<double>("layer_norm_eps", o.layer_norm_eps()))
      .use_torch_layer_norm(s.get<bool>("use_torch_layer_norm", o.use_torch_layer_norm()))
      .fused_attention(s.get<bool>("fused_attention", o.fused_attention()))
      .max_len(s.get_positive<int64_t>("max_len", o.max_len()));
  if (o.d_model() % o.num_heads() != 0) {
    s.fail("num_heads", fmt::format("must divide d_model={}, got {}", o.d_model(), o.num_heads()));
  }
}

}  // namespace model_keys
}  // namespace torchzoo::configs

namespace torchzoo::configs {

std::shared_ptr<torch::nn::Module> build_encoder_decoder(const Section& s) {
  models::EncoderDecoderOptions o(s.require<int64_t>("src_vocab"), s.require<int64_t>("tgt_vocab"));
  if (o.src_vocab() <= 0) s.fail("src_vocab", fmt::format("must be positive, got {}", o.src_vocab()));
  if (o.tgt_vocab() <= 0) s.fail("tgt_vocab", fmt::format("must be positive, got {}", o.tgt_vocab()));
  model_keys::read_transformer_stack(s, o);
  o.norm_first(s.get<bool>("norm_first", o.norm_first()));
  o.share_embeddings(s.get<bool>("share_embeddings", o.share_embeddings()))
      .tie_generator(s.get<bool>("tie_generator", o.tie_generator()));
  if (o.share_embeddings() && o.src_vocab() != o.tgt_vocab()) {
    s.fail("share_embeddings",
           fmt::format("needs one vocabulary: src_vocab={} and tgt_vocab={} differ", o.src_vocab(), o.tgt_vocab()));
  }
  if (o.d_model() % 2 != 0) s.fail("d_model", fmt::format("must be even (sinusoidal positions), got {}", o.d_model()));
  s.finish();
  return models::EncoderDecoder(o).ptr();
}

}  // namespace torchzoo::configs

namespace torchzoo::configs {

std::shared_ptr<torch::nn::Module> build_vision_transformer(const Section& s) {
  models::VisionTransformerOptions o;
  if (auto preset = s.get_optional<std::string>("preset")) {
    try {
      o = models::VisionTransformerOptions::preset(*preset);
    } catch (const c10::Error& error) {
      s.fail("preset", error.what_without_backtrace());
    }
  }
  o.img_size(s.get_positive<int64_t>("img_size", o.img_size()))
      .patch_size(s.get_positive<int64_t>("patch_size", o.patch_size()))
      .in_chans(s.get_positive<int64_t>("in_chans", o.in_chans()))
      .num_classes(s.get_positive<int64_t>("num_classes", o.num_classes()))
      .embed_dim(s.get_positive<int64_t>("embed_dim", o.embed_dim()))
      .depth(s.get_positive<int64_t>("depth", o.depth()))
      .num_heads(s.get_positive<int64_t>("num_heads", o.num_heads()))
      .mlp_ratio(s.get_positive<double>("mlp_ratio", o.mlp_ratio()))
      .qkv_bias(s.get<bool>("qkv_bias", o.qkv_bias()))
      .global_pool(models::global_pool_from_string(s.get_choice("global_pool", "token", {"token", "avg"})))
      .drop_rate(s.get_in_range("drop_rate", o.drop_rate(), 0.0, 0.99))
      .attn_drop_rate(s.get_in_range("attn_drop_rate", o.attn_drop_rate(), 0.0, 0.99))
      .drop_path_rate(s.get_in_range("drop_path_rate", o.drop_path_rate(), 0.0, 0.99))
      .fused_attention(s.get<bool>("fused_attention", o.fused_attention()));
  if (auto init_values = s.get_optional<double>("init_values")) {
    if (*init_values <= 0)
      s.fail("init_values", fmt::format("must be positive (LayerScale's initial gain), got {}", *init_values));
    o.init_values(*init_values);
  }
  if (o.img_size() % o.patch_size() != 0) {
    s.fail("patch_size", fmt::format("must divide img_size={}, got {}", o.img_size(), o.patch_size()));
  }
  if (o.embed_dim() % o.num_heads() != 0) {
    s.fail("num_heads", fmt::format("must divide embed_dim={}, got {}", o.embed_dim(), o.num_heads()));
  }
  s.finish();
  return models::VisionTransformer(o).ptr();
}

}  // namespace torchzoo::configs

namespace torchzoo::configs {

std::shared_ptr<torch::nn::Module> build_transformer_encoder_classifier(const Section& s) {
  models::TransformerEncoderClassifierOptions o(s.require<int64_t>("vocab"), s.require<int64_t>("num_classes"));
  if (o.vocab() <= 0) s.fail("vocab", fmt::format("must be positive, got {}", o.vocab()));
  if (o.num_classes() <= 0) s.fail("num_classes", fmt::format("must be positive, got {}", o.num_classes()));
  model_keys::read_transformer_stack(s, o);
  o.norm_first(s.get<bool>("norm_first", o.norm_first()));
  o.learned_positions(s.get_choice("positions", "sinusoidal", {"sinusoidal", "learned"}) == "learned")
      .pooling(models::pooling_from_string(s.get_choice("pooling", "cls", {"cls", "mean"})));
  if (!o.learned_positions() && o.d_model() % 2 != 0) {
    s.fail("d_model", fmt::format("must be even (sinusoidal positions), got {}", o.d_model()));
  }
  s.finish();
  return models::TransformerEncoderClassifier(o).ptr();
}

}  // namespace torchzoo::configs

namespace torchzoo::configs {

std::shared_ptr<torch::nn::Module> build_decoder_only_lm(const Section& s) {
  models::DecoderOnlyLMOptions o(s.require<int64_t>("vocab"));
  if (o.vocab() <= 0) s.fail("vocab", fmt::format("must be positive, got {}", o.vocab()));
  model_keys::read_transformer_stack(s, o);
  o.learned_positions(s.get_choice("positions", "learned", {"learned", "sinusoidal"}) == "learned")
      .tie_embeddings(s.get<bool>("tie_embeddings", o.tie_embeddings()));
  if (!o.learned_positions() && o.d_model() % 2 != 0) {
    s.fail("d_model", fmt::format("must be even (sinusoidal positions), got {}", o.d_model()));
  }
  s.finish();
  return models::DecoderOnlyLM(o).ptr();
}

}  // namespace torchzoo::configs
