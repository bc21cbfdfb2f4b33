#include "torchzoo/configs/registries.h"

#include <mutex>

#include "torchzoo/configs/builders.h"

namespace torchzoo::configs {
namespace {

struct Registries {
  Registry<ModelBuilder> models{"model"};
  Registry<TaskBuilder> tasks{"data"};
  Registry<OptimizerBuilder> optimizers{"optimizer"};
  Registry<SchedulerBuilder> schedulers{"scheduler"};
  Registry<LossBuilder> losses{"loss"};
};

/// The one place every builder is registered.
void fill(Registries& r) {
  r.models.add("decoder_only_lm", build_decoder_only_lm,
               "GPT-style decoder-only language model (learned or sinusoidal positions, tied embeddings)");
  r.models.add("encoder_decoder", build_encoder_decoder,
               "annotated Transformer encoder-decoder (translation, copy task)");
  r.models.add("vision_transformer", build_vision_transformer,
               "ViT image classifier with timm's names (preset: vit_tiny, vit_small, vit_mini)");
  r.models.add("transformer_encoder_classifier", build_transformer_encoder_classifier,
               "BERT-style encoder-only text classifier (cls or mean pooling)");

  r.tasks.add("copy_task", build_copy_task, "the annotated Transformer's copy task (synthetic)");
  r.tasks.add("translation", build_translation_task,
              "a parallel corpus (TSV or aligned files) with SentencePiece, token-budget batches and BLEU");
  r.tasks.add("text_classification", build_text_classification_task,
              "labelled texts (TSV: label<TAB>text) with SentencePiece, token-budget batches, accuracy by length");
  r.tasks.add("language_model", build_language_model_task,
              "monolingual text (one text per line) with SentencePiece, next-token loss and perplexity");
  r.tasks.add("fashion_mnist", build_mnist_format_task,
              "Fashion-MNIST image classification (IDX files; Debian package dataset-fashion-mnist)");
  r.tasks.add("mnist", build_mnist_format_task, "MNIST-format image classification from data.root (IDX files)");

  r.optimizers.add("adam", build_adam, "torch::optim::Adam (lr, betas, eps, weight_decay, amsgrad, no_decay)");
  r.optimizers.add("adamw", build_adamw, "torch::optim::AdamW (lr, betas, eps, weight_decay, amsgrad, no_decay)");
  r.optimizers.add("sgd", build_sgd, "torch::optim::SGD (lr, momentum, nesterov, weight_decay, no_decay)");

  r.schedulers.add("noam", build_noam_schedule,
                   "Vaswani et al. warm-up then inverse square root (model_size, factor, warmup)");
  r.schedulers.add("constant", build_constant_schedule, "the optimizer's lr throughout");
  r.schedulers.add("warmup_cosine", build_warmup_cosine_schedule,
                   "linear warm-up, cosine decay (warmup, total_steps, min_ratio)");
  r.schedulers.add("inverse_sqrt", build_inverse_sqrt_schedule, "linear warm-up, then 1/sqrt(step) (warmup)");

  r.losses.add("label_smoothing", build_label_smoothing, "KL divergence to the smoothed targets (smoothing)");
  r.losses.add("nll", build_nll_loss, "negative log-likelihood, padding ignored");
  r.losses.add("cross_entropy", build_cross_entropy, "cross-entropy over logits (label_smoothing)");
}

Registries& registries() {
  static Registries instance;
  static std::once_flag once;
  std::call_once(once, [] { fill(instance); });
  return instance;
}

}  // namespace

Registry<ModelBuilder>& model_registry() { return registries().models; }
Registry<TaskBuilder>& task_registry() { return registries().tasks; }
Registry<OptimizerBuilder>& optimizer_registry() { return registries().optimizers; }
Registry<SchedulerBuilder>& scheduler_registry() { return registries().schedulers; }
Registry<LossBuilder>& loss_registry() { return registries().losses; }

}  // namespace torchzoo::configs
