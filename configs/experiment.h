#pragma once
// From a config to the objects a run needs: the model, the task (data, loss),
// the optimizer, the schedule and the trainer options. Every section is read
// and checked here before anything is written, so a bad config fails with
// nothing half-made on disk.
//
// Top-level sections: model, data, loss, optimizer, scheduler, train, sample.
#include <memory>
#include <string>

#include "torchzoo/configs/config.h"
#include "torchzoo/data/sentencepiece_tokenizer.h"
#include "torchzoo/train/lr_schedule.h"
#include "torchzoo/train/task.h"
#include "torchzoo/train/text_classifier.h"
#include "torchzoo/train/trainer.h"

namespace torchzoo::configs {

struct Experiment {
  std::shared_ptr<torch::nn::Module> model;
  std::string model_name;
  std::unique_ptr<train::Task> task;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<train::LRScheduler> scheduler;
  train::TrainerOptions trainer;
  uint64_t seed = 1;
  int64_t threads = 0;  ///< 0: LibTorch's default
};

/// The model named by model.name (seeded with train.seed so the initial weights are reproducible).
/// With model.init_from (any model), the weights of that safetensors file then replace the
/// initial ones (train/safetensors.h; a path relative to the current directory, as data paths
/// are): its names must be exactly the model's parameters and buffers, with their shapes; a
/// vision_transformer's pos_embed from another patch grid is resampled to the model's.
///
/// Example (fine-tune weights trained in Python):
///   model: {name: vision_transformer, preset: vit_mini, init_from: runs/pretrained/vit.safetensors}
///
/// with_init_from false skips that file: for a model whose weights a checkpoint then replaces.
std::shared_ptr<torch::nn::Module> build_model(const Config& config, bool with_init_from = true);

/// The task named by data.name, around `model` (also reads `loss` and `sample`).
std::unique_ptr<train::Task> build_task(const Config& config, std::shared_ptr<torch::nn::Module> model);

/// Everything for `torchzoo train`; checks that no top-level section is unknown.
Experiment build_experiment(const Config& config);

/// The SentencePiece models of a translation config (data.tokenizer), which training
/// wrote; src and tgt are the same object for a joint vocabulary.
struct TranslationTokenizers {
  std::shared_ptr<const data::SentencePieceTokenizer> src, tgt;
};
TranslationTokenizers load_translation_tokenizers(const Config& config);

/// The classifier of a text classification config around `model` (a transformer_encoder_classifier
/// whose weights the caller loads): the SentencePiece model training wrote, the classes (data.classes,
/// else the labels of data.train) and data.max_tokens. Reads no texts but the training labels.
train::TextClassifier load_text_classifier(const Config& config, std::shared_ptr<torch::nn::Module> model);

/// The SentencePiece model of a language model config (data.tokenizer), which training wrote.
std::shared_ptr<const data::SentencePieceTokenizer> load_lm_tokenizer(const Config& config);

/// `runs/<config file stem>` unless train.out_dir says otherwise.
std::string default_out_dir(const Config& config);

}  // namespace torchzoo::configs
