#include "torchzoo/models/bert.h"

#include <torch/nn/init.h>
#include <torch/torch.h>

#include "torchzoo/common/check.h"
#include "torchzoo/layers/encoder_layer.h"

namespace torchzoo::models {

layers::TransformerLayerOptions BertOptions::layer() const {
  return layers::TransformerLayerOptions(hidden_size(), num_attention_heads(), intermediate_size())
      .dropout(hidden_dropout_prob())
      .attention_dropout(attention_probs_dropout_prob())
      .activation_dropout(0.0)  // BertIntermediate has none
      .activation(layers::activation_from_string(hidden_act()))
      .norm_first(false)
      .layer_norm_eps(layer_norm_eps())
      .use_torch_layer_norm(true)
      .fused_attention(fused_attention());
}

BertEmbeddingsImpl::BertEmbeddingsImpl(BertOptions options) : options(std::move(options)) { reset(); }

void BertEmbeddingsImpl::reset() {
  const auto hidden = options.hidden_size();
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(options.vocab_size(), hidden));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(options.max_position_embeddings(), hidden));
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(options.type_vocab_size(), hidden));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden}).eps(options.layer_norm_eps())));
  dropout = register_module("dropout", torch::nn::Dropout(options.hidden_dropout_prob()));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids) {
  TORCHZOO_CHECK(input_ids.dim() == 2 && input_ids.scalar_type() == torch::kLong,
                 "BertEmbeddings: expected input_ids int64 [B, T], got {} {}", c10::toString(input_ids.scalar_type()),
                 detail::shape_str(input_ids.sizes()));
  const auto length = input_ids.size(1);
  TORCHZOO_CHECK(length <= options.max_position_embeddings(),
                 "BertEmbeddings: {} tokens, but the model has {} positions (max_position_embeddings)", length,
                 options.max_position_embeddings());
  TORCHZOO_CHECK(!token_type_ids.defined() || token_type_ids.sizes() == input_ids.sizes(),
                 "BertEmbeddings: expected token_type_ids of shape {}, got {}", detail::shape_str(input_ids.sizes()),
                 detail::shape_str(token_type_ids.sizes()));
  const auto positions = torch::arange(length, input_ids.options());  // [T]
  const auto types = token_type_ids.defined() ? token_type_ids : torch::zeros_like(input_ids);
  auto x = word_embeddings(input_ids) + token_type_embeddings(types) + position_embeddings(positions);  // [B, T, H]
  return dropout(LayerNorm(x));
}

BertPoolerImpl::BertPoolerImpl(int64_t hidden_size) : hidden_size(hidden_size) { reset(); }

void BertPoolerImpl::reset() { dense = register_module("dense", torch::nn::Linear(hidden_size, hidden_size)); }

torch::Tensor BertPoolerImpl::forward(const torch::Tensor& hidden_states) {
  return torch::tanh(dense(hidden_states.select(1, 0)));  // [B, H] from the first ([CLS]) position
}

BertModelImpl::BertModelImpl(BertOptions options) : options(std::move(options)) { reset(); }

void BertModelImpl::reset() {
  const auto& o = options;
  TORCHZOO_CHECK(o.vocab_size() > 0 && o.hidden_size() > 0 && o.num_hidden_layers() > 0 && o.intermediate_size() > 0 &&
                     o.max_position_embeddings() > 0 && o.type_vocab_size() > 0,
                 "BertModel: vocab_size, hidden_size, num_hidden_layers, intermediate_size, max_position_embeddings "
                 "and type_vocab_size must be positive");
  TORCHZOO_CHECK(o.num_attention_heads() > 0 && o.hidden_size() % o.num_attention_heads() == 0,
                 "BertModel: num_attention_heads {} must divide hidden_size {}", o.num_attention_heads(),
                 o.hidden_size());
  TORCHZOO_CHECK(o.pad_token_id() >= 0 && o.pad_token_id() < o.vocab_size(),
                 "BertModel: pad_token_id {} is outside the vocabulary [0, {})", o.pad_token_id(), o.vocab_size());
  embeddings = register_module("embeddings", BertEmbeddings(o));
  encoder = register_module("encoder", layers::Encoder(layers::EncoderOptions(o.layer(), o.num_hidden_layers())));
  pooler = register_module("pooler", BertPooler(o.hidden_size()));
  reset_parameters();
}

void BertModelImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters()) {
    const auto& name = item.key();
    auto& p = item.value();
    const bool norm = name.find("LayerNorm") != std::string::npos || name.find(".norm.") != std::string::npos;
    const bool bias = name.size() >= 4 &&
                      (name.compare(name.size() - 4, 4, "bias") == 0 || name.compare(name.size() - 3, 3, "b_2") == 0);
    if (norm && !bias) {
      p.fill_(1.0);
    } else if (bias) {
      p.zero_();
    } else {
      p.normal_(0.0, options.initializer_range());
    }
  }
  embeddings->word_embeddings->weight[options.pad_token_id()].zero_();
}

BertOutput BertModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                                  const torch::Tensor& attention_mask) {
  TORCHZOO_CHECK(!attention_mask.defined() || attention_mask.sizes() == input_ids.sizes(),
                 "BertModel: expected attention_mask of shape {} (1 for tokens, 0 for padding), got {}",
                 detail::shape_str(input_ids.sizes()), detail::shape_str(attention_mask.sizes()));
  auto x = embeddings(input_ids, token_type_ids);  // [B, T, H]
  // [B, 1, T]: every query may attend to the tokens, none to padding
  const auto mask = attention_mask.defined() ? attention_mask.to(torch::kBool).unsqueeze(1) : torch::Tensor();
  BertOutput out;
  out.last_hidden_state = encoder(x, mask);           // [B, T, H]
  out.pooler_output = pooler(out.last_hidden_state);  // [B, H]
  return out;
}

BertClassifierImpl::BertClassifierImpl(BertClassifierOptions options) : options(std::move(options)) { reset(); }

void BertClassifierImpl::reset() {
  TORCHZOO_CHECK(options.num_classes() > 0, "BertClassifier: num_classes must be positive, got {}",
                 options.num_classes());
  const auto hidden = options.bert().hidden_size();
  bert = register_module("bert", BertModel(options.bert()));
  dropout = register_module(
      "dropout", torch::nn::Dropout(options.classifier_dropout().value_or(options.bert().hidden_dropout_prob())));
  classifier = register_module("classifier", torch::nn::Linear(hidden, options.num_classes()));
  torch::NoGradGuard no_grad;
  classifier->weight.normal_(0.0, options.bert().initializer_range());
  classifier->bias.zero_();
}

torch::Tensor BertClassifierImpl::forward(const torch::Tensor& tokens, const torch::Tensor& mask) {
  const auto attention_mask = mask.defined() && mask.dim() == 3 ? mask.squeeze(1) : mask;            // [B, T]
  return classifier(dropout(bert->forward(tokens, torch::Tensor(), attention_mask).pooler_output));  // [B, classes]
}

torch::Tensor mean_pool(const torch::Tensor& last_hidden_state, const torch::Tensor& attention_mask, bool normalize) {
  TORCHZOO_CHECK(last_hidden_state.dim() == 3 && attention_mask.dim() == 2 &&
                     attention_mask.size(0) == last_hidden_state.size(0) &&
                     attention_mask.size(1) == last_hidden_state.size(1),
                 "mean_pool: expected hidden states [B, T, H] and a mask [B, T], got {} and {}",
                 detail::shape_str(last_hidden_state.sizes()), detail::shape_str(attention_mask.sizes()));
  const auto weights = attention_mask.to(last_hidden_state.scalar_type()).unsqueeze(-1);  // [B, T, 1]
  auto pooled = (last_hidden_state * weights).sum(1) / weights.sum(1).clamp_min(1e-9);    // [B, H]
  if (normalize) pooled = pooled / pooled.norm(2, -1, true).clamp_min(1e-12);
  return pooled;
}

}  // namespace torchzoo::models
