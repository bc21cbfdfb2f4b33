#include "torchzoo/train/export/hf_bert.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "torchzoo/common/check.h"

namespace torchzoo::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

/// A layer's tensor, torchzoo's name after "encoder.layers.{i}." -> Hugging Face's after "encoder.layer.{i}.".
const std::map<std::string, std::string>& layer_names() {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> m;
    const char* qkv[] = {"query", "key", "value"};
    for (const char* p : {"weight", "bias"}) {
      for (int k = 0; k < 3; ++k) {
        m[fmt::format("self_attn.linears.{}.{}", k, p)] = fmt::format("attention.self.{}.{}", qkv[k], p);
      }
      m[fmt::format("self_attn.linears.3.{}", p)] = fmt::format("attention.output.dense.{}", p);
      m[fmt::format("feed_forward.w_1.{}", p)] = fmt::format("intermediate.dense.{}", p);
      m[fmt::format("feed_forward.w_2.{}", p)] = fmt::format("output.dense.{}", p);
    }
    m["sublayer.0.norm.a_2"] = "attention.output.LayerNorm.weight";
    m["sublayer.0.norm.b_2"] = "attention.output.LayerNorm.bias";
    m["sublayer.1.norm.a_2"] = "output.LayerNorm.weight";
    m["sublayer.1.norm.b_2"] = "output.LayerNorm.bias";
    return m;
  }();
  return names;
}

/// Up to ten names, then how many more.
std::string name_list(const std::vector<std::string>& names) {
  std::vector<std::string> shown(names.begin(), names.begin() + std::min<size_t>(names.size(), 10));
  return fmt::format("{}{}", fmt::join(shown, ", "),
                     names.size() > 10 ? fmt::format(" and {} more", names.size() - 10) : "");
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  TORCHZOO_CHECK(in.good(), "cannot open {}", path);
  try {
    return json::parse(in);
  } catch (const json::parse_error& error) {
    TORCHZOO_CHECK(false, "{}: not JSON: {}", path, error.what());
  }
  return {};
}

/// (model.safetensors, config.json or "") of a folder or a .safetensors file.
std::pair<std::string, std::string> checkpoint_files(const std::string& path) {
  const fs::path p(path);
  if (fs::is_directory(p)) {
    const auto weights = p / "model.safetensors";
    TORCHZOO_CHECK(fs::exists(weights),
                   "{}: no model.safetensors in this folder (a Hugging Face BERT folder holds "
                   "config.json and model.safetensors)",
                   path);
    const auto config = p / "config.json";
    return {weights.string(), fs::exists(config) ? config.string() : ""};
  }
  TORCHZOO_CHECK(fs::exists(p),
                 "{}: no such file or folder (expected a Hugging Face BERT folder or a .safetensors file)", path);
  const auto config = p.parent_path() / "config.json";
  return {p.string(), fs::exists(config) ? config.string() : ""};
}

}  // namespace

models::BertOptions read_hf_bert_config(const std::string& config_json) {
  const auto config = read_json_file(config_json);
  const auto fail = [&](const std::string& key, const std::string& message) {
    TORCHZOO_CHECK(false, "{}: {}: {}", config_json, key, message);
  };
  if (!config.is_object()) fail("(top level)", "expected a JSON object");
  if (config.contains("model_type") && config.at("model_type") != "bert") {
    fail("model_type", fmt::format("expected \"bert\", got {}", config.at("model_type").dump()));
  }
  const auto integer = [&](const char* key, int64_t fallback) {
    if (!config.contains(key)) return fallback;
    const auto& v = config.at(key);
    if (!v.is_number_integer() || v.get<int64_t>() < 0) fail(key, fmt::format("expected a count, got {}", v.dump()));
    return v.get<int64_t>();
  };
  const auto number = [&](const char* key, double fallback) {
    if (!config.contains(key)) return fallback;
    const auto& v = config.at(key);
    if (!v.is_number()) fail(key, fmt::format("expected a number, got {}", v.dump()));
    return v.get<double>();
  };
  if (config.contains("position_embedding_type") && config.at("position_embedding_type") != "absolute") {
    fail("position_embedding_type",
         fmt::format("torchzoo's BERT has absolute positions, got {}", config.at("position_embedding_type").dump()));
  }
  if (config.value("is_decoder", false)) fail("is_decoder", "torchzoo's BERT is an encoder");
  models::BertOptions o;
  if (config.contains("hidden_act")) {
    const auto& act = config.at("hidden_act");
    if (act != "gelu" && act != "relu")
      fail("hidden_act", fmt::format("expected \"gelu\" or \"relu\", got {}", act.dump()));
    o.hidden_act(act.get<std::string>());
  }
  o.vocab_size(integer("vocab_size", o.vocab_size()))
      .hidden_size(integer("hidden_size", o.hidden_size()))
      .num_hidden_layers(integer("num_hidden_layers", o.num_hidden_layers()))
      .num_attention_heads(integer("num_attention_heads", o.num_attention_heads()))
      .intermediate_size(integer("intermediate_size", o.intermediate_size()))
      .max_position_embeddings(integer("max_position_embeddings", o.max_position_embeddings()))
      .type_vocab_size(integer("type_vocab_size", o.type_vocab_size()))
      .pad_token_id(config.contains("pad_token_id") && config.at("pad_token_id").is_null()
                        ? 0
                        : integer("pad_token_id", o.pad_token_id()))
      .hidden_dropout_prob(number("hidden_dropout_prob", o.hidden_dropout_prob()))
      .attention_probs_dropout_prob(number("attention_probs_dropout_prob", o.attention_probs_dropout_prob()))
      .layer_norm_eps(number("layer_norm_eps", o.layer_norm_eps()))
      .initializer_range(number("initializer_range", o.initializer_range()));
  if (o.num_attention_heads() == 0 || o.hidden_size() % o.num_attention_heads() != 0) {
    fail("num_attention_heads", fmt::format("{} must divide hidden_size {}", o.num_attention_heads(), o.hidden_size()));
  }
  return o;
}

std::string hf_bert_name(const std::string& name) {
  const std::string layers = "encoder.layers.";
  if (!starts_with(name, layers)) return name;  // embeddings.*, pooler.*
  const auto dot = name.find('.', layers.size());
  TORCHZOO_CHECK(dot != std::string::npos, "hf_bert_name: not a BertModel tensor: {}", name);
  const auto index = name.substr(layers.size(), dot - layers.size());
  const auto it = layer_names().find(name.substr(dot + 1));
  TORCHZOO_CHECK(it != layer_names().end(), "hf_bert_name: not a BertModel tensor: {}", name);
  return "encoder.layer." + index + "." + it->second;
}

NamedTensors bert_state_from_hf(const NamedTensors& hf, const models::BertModelImpl& model, const std::string& source,
                                NamedTensors* head) {
  bool prefixed = false;
  for (const auto& [name, tensor] : hf) prefixed = prefixed || starts_with(name, "bert.");
  std::map<std::string, torch::Tensor> by_name;
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : hf) {
    if (prefixed && !starts_with(name, "bert.")) {
      if (head != nullptr) {
        head->emplace_back(name, tensor);
      } else {
        unexpected.push_back(name);
      }
      continue;
    }
    auto key = prefixed ? name.substr(5) : name;
    if (key == "embeddings.position_ids") continue;  // a buffer of old checkpoints: 0..max_position-1
    for (const auto& [old_name, new_name] : {std::pair<std::string, std::string>{"LayerNorm.gamma", "LayerNorm.weight"},
                                             {"LayerNorm.beta", "LayerNorm.bias"}}) {
      if (key.size() >= old_name.size() && key.compare(key.size() - old_name.size(), old_name.size(), old_name) == 0) {
        key = key.substr(0, key.size() - old_name.size()) + new_name;
      }
    }
    by_name.emplace(key, tensor);
  }
  NamedTensors state;
  std::vector<std::string> missing;
  std::set<std::string> used;
  for (const auto& [name, tensor] : module_state(model)) {
    const auto key = hf_bert_name(name);
    const auto it = by_name.find(key);
    if (it == by_name.end()) {
      missing.push_back((prefixed ? "bert." : "") + key);
      continue;
    }
    state.emplace_back(name, it->second);
    used.insert(key);
  }
  for (const auto& [key, tensor] : by_name) {
    if (used.count(key) == 0) unexpected.push_back((prefixed ? "bert." : "") + key);
  }
  TORCHZOO_CHECK(
      missing.empty() && unexpected.empty(), "{}: not this BERT's checkpoint ({} layers, hidden {}):{}{}", source,
      model.options.num_hidden_layers(), model.options.hidden_size(),
      missing.empty() ? "" : fmt::format(" missing {} tensors: {};", missing.size(), name_list(missing)),
      unexpected.empty() ? "" : fmt::format(" unexpected {} tensors: {}", unexpected.size(), name_list(unexpected)));
  return state;
}

NamedTensors bert_state_to_hf(const models::BertModelImpl& model, const std::string& prefix) {
  NamedTensors out;
  for (auto& [name, tensor] : module_state(model)) out.emplace_back(prefix + hf_bert_name(name), tensor);
  return out;
}

std::string hf_bert_config_json(const models::BertOptions& o, const std::vector<std::string>& labels) {
  json config = {{"architectures", {labels.empty() ? "BertModel" : "BertForSequenceClassification"}},
                 {"model_type", "bert"},
                 {"vocab_size", o.vocab_size()},
                 {"hidden_size", o.hidden_size()},
                 {"num_hidden_layers", o.num_hidden_layers()},
                 {"num_attention_heads", o.num_attention_heads()},
                 {"intermediate_size", o.intermediate_size()},
                 {"hidden_act", o.hidden_act()},
                 {"hidden_dropout_prob", o.hidden_dropout_prob()},
                 {"attention_probs_dropout_prob", o.attention_probs_dropout_prob()},
                 {"max_position_embeddings", o.max_position_embeddings()},
                 {"type_vocab_size", o.type_vocab_size()},
                 {"layer_norm_eps", o.layer_norm_eps()},
                 {"initializer_range", o.initializer_range()},
                 {"pad_token_id", o.pad_token_id()},
                 {"position_embedding_type", "absolute"}};
  if (!labels.empty()) {
    json id2label = json::object(), label2id = json::object();
    for (size_t i = 0; i < labels.size(); ++i) {
      id2label[std::to_string(i)] = labels[i];
      label2id[labels[i]] = i;
    }
    config["num_labels"] = labels.size();
    config["id2label"] = id2label;
    config["label2id"] = label2id;
  }
  return config.dump(2) + "\n";
}

models::BertOptions hf_bert_options(const std::string& path) {
  const auto [weights, config] = checkpoint_files(path);
  TORCHZOO_CHECK(!config.empty(), "{}: no config.json beside {} (it gives the model's sizes)", path, weights);
  return read_hf_bert_config(config);
}

void load_hf_bert(models::BertModelImpl& model, const std::string& path) {
  const auto [weights, config] = checkpoint_files(path);
  if (!config.empty()) {
    const auto file = read_hf_bert_config(config);
    const auto& o = model.options;
    const std::pair<const char*, std::pair<int64_t, int64_t>> sizes[] = {
        {"vocab_size", {file.vocab_size(), o.vocab_size()}},
        {"hidden_size", {file.hidden_size(), o.hidden_size()}},
        {"num_hidden_layers", {file.num_hidden_layers(), o.num_hidden_layers()}},
        {"num_attention_heads", {file.num_attention_heads(), o.num_attention_heads()}},
        {"intermediate_size", {file.intermediate_size(), o.intermediate_size()}},
        {"max_position_embeddings", {file.max_position_embeddings(), o.max_position_embeddings()}},
        {"type_vocab_size", {file.type_vocab_size(), o.type_vocab_size()}}};
    for (const auto& [key, values] : sizes) {
      TORCHZOO_CHECK(values.first == values.second, "{}: {} is {}, but the model was built with {}", config, key,
                     values.first, values.second);
    }
    TORCHZOO_CHECK(file.hidden_act() == o.hidden_act(), "{}: hidden_act is {}, but the model was built with {}", config,
                   file.hidden_act(), o.hidden_act());
  }
  const auto contents = read_safetensors(weights);
  load_state(model, bert_state_from_hf(contents.tensors, model, weights), weights);
}

models::BertModel hf_bert_from_pretrained(const std::string& path) {
  models::BertModel model(hf_bert_options(path));
  load_hf_bert(*model, path);
  model->eval();
  return model;
}

}  // namespace torchzoo::train
