#pragma once
// Hugging Face BERT checkpoints in and out: a folder with config.json and
// model.safetensors (BertModel, or BertForSequenceClassification's "bert."
// prefix) becomes a models::BertModel, and a BertModel's state goes back out
// under Hugging Face's names, so that transformers' from_pretrained loads it.
//
// Names, Hugging Face's <-> torchzoo's (models/bert.h), for layer i:
//   encoder.layer.{i}.attention.self.{query,key,value}.*  <-> encoder.layers.{i}.self_attn.linears.{0,1,2}.*
//   encoder.layer.{i}.attention.output.dense.*             <-> encoder.layers.{i}.self_attn.linears.3.*
//   encoder.layer.{i}.attention.output.LayerNorm.{weight,bias} <-> encoder.layers.{i}.sublayer.0.norm.{a_2,b_2}
//   encoder.layer.{i}.intermediate.dense.*                 <-> encoder.layers.{i}.feed_forward.w_1.*
//   encoder.layer.{i}.output.dense.*                       <-> encoder.layers.{i}.feed_forward.w_2.*
//   encoder.layer.{i}.output.LayerNorm.{weight,bias}       <-> encoder.layers.{i}.sublayer.1.norm.{a_2,b_2}
//   embeddings.* and pooler.dense.*                        the same on both sides
// Old checkpoints' LayerNorm.gamma / .beta read as .weight / .bias, and the
// embeddings.position_ids buffer some files carry is skipped (it is 0..T-1).
//
// Loading is strict: every tensor of the model must come from the file, and a
// tensor the model has no place for, or one of another shape, is an error that
// names the file and lists them.
#include <string>
#include <vector>

#include "torchzoo/models/bert.h"
#include "torchzoo/train/export/safetensors.h"

namespace torchzoo::train {

/// BertOptions from a Hugging Face config.json (model_type "bert"). Keys torchzoo cannot honour
/// (another position_embedding_type, a hidden_act other than gelu or relu, is_decoder) are errors
/// naming the file and the key.
models::BertOptions read_hf_bert_config(const std::string& config_json);

/// torchzoo's name of a BertModel tensor -> Hugging Face's (without a "bert." prefix).
std::string hf_bert_name(const std::string& name);

/// A Hugging Face state (with or without the "bert." prefix of task models) under torchzoo's names,
/// strict against `model` (see above); `source` names the state in errors. Tensors of a task head
/// (names outside bert.* when the prefix is used, e.g. classifier.*) are returned in `head`.
NamedTensors bert_state_from_hf(const NamedTensors& hf, const models::BertModelImpl& model, const std::string& source,
                                NamedTensors* head = nullptr);

/// The model's state under Hugging Face's names, with `prefix` (e.g. "bert.") before each.
NamedTensors bert_state_to_hf(const models::BertModelImpl& model, const std::string& prefix = "");

/// A Hugging Face config.json for `options`: BertModel's, or with `labels` a
/// BertForSequenceClassification's (num_labels, id2label, label2id).
std::string hf_bert_config_json(const models::BertOptions& options, const std::vector<std::string>& labels = {});

/// The folder's (or the .safetensors file's, beside its config.json) BertOptions.
models::BertOptions hf_bert_options(const std::string& path);

/// Copies a Hugging Face checkpoint into `model`: `path` is a folder holding model.safetensors, or a
/// .safetensors file. Its config.json, when present, must agree with the model's options.
void load_hf_bert(models::BertModelImpl& model, const std::string& path);

/// A BertModel built from the folder's config.json with its weights loaded (eval mode).
///
/// Example:
///   auto bert = train::hf_bert_from_pretrained("all-MiniLM-L6-v2");
///   auto out = bert(ids, types, mask);
models::BertModel hf_bert_from_pretrained(const std::string& path);

}  // namespace torchzoo::train
