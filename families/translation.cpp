// The translation family: the annotated Transformer's encoder-decoder
// (model.name: encoder_decoder), trained on the copy task (data.name: copy_task)
// or on a parallel corpus with SentencePiece (data.name: translation). It
// evaluates with BLEU, greedy-decodes token ids (copy task), translates text
// (translation) and exports greedy_decode with its data's symbols and tokenizers.
#include "torchzoo/families/translation.h"

#include <iostream>

#include "torchzoo/common/format.h"
#include "torchzoo/configs/builders.h"
#include "torchzoo/configs/model_keys.h"
#include "torchzoo/data/copy_task.h"
#include "torchzoo/data/masks.h"
#include "torchzoo/data/parallel_text.h"
#include "torchzoo/data/text_file.h"
#include "torchzoo/models/attention_recorder.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/tasks/seq2seq_task.h"
#include "torchzoo/train/tasks/translation_task.h"

namespace torchzoo::families {
namespace translation {
namespace {

/// The SentencePiece models of a translation config (data.tokenizer); src and tgt are the same
/// object for a joint vocabulary.
struct Tokenizers {
  std::shared_ptr<const data::SentencePieceTokenizer> src, tgt;
};

models::EncoderDecoder build_encoder_decoder(const Section& s) {
  models::EncoderDecoderOptions o(s.require<int64_t>("src_vocab"), s.require<int64_t>("tgt_vocab"));
  if (o.src_vocab() <= 0) s.fail("src_vocab", fmt::format("must be positive, got {}", o.src_vocab()));
  if (o.tgt_vocab() <= 0) s.fail("tgt_vocab", fmt::format("must be positive, got {}", o.tgt_vocab()));
  configs::read_transformer_stack(s, o);
  o.norm_first(s.get<bool>("norm_first", o.norm_first()));
  o.share_embeddings(s.get<bool>("share_embeddings", o.share_embeddings()))
      .tie_generator(s.get<bool>("tie_generator", o.tie_generator()));
  if (o.share_embeddings() && o.src_vocab() != o.tgt_vocab()) {
    s.fail("share_embeddings",
           fmt::format("needs one vocabulary: src_vocab={} and tgt_vocab={} differ", o.src_vocab(), o.tgt_vocab()));
  }
  if (o.d_model() % 2 != 0) s.fail("d_model", fmt::format("must be even (sinusoidal positions), got {}", o.d_model()));
  const double d = static_cast<double>(o.d_model()), vocabs = static_cast<double>(o.src_vocab() + o.tgt_vocab());
  configs::check_stack_fits(
      s, o, d * vocabs + 2 * d * static_cast<double>(o.max_len()), 3,
      {{"src_vocab", static_cast<double>(o.src_vocab())}, {"tgt_vocab", static_cast<double>(o.tgt_vocab())}});
  s.finish();
  return models::EncoderDecoder(o);
}

std::vector<data::ParallelPair> read_split(const Section& s, const std::string& name, bool required) {
  const bool tsv = s.has(name), files = s.has(name + "_src") || s.has(name + "_tgt");
  if (tsv && files) s.fail(name, fmt::format("give either {0} (a TSV file) or {0}_src and {0}_tgt, not both", name));
  if (!tsv && !files) {
    if (required)
      s.fail("name", fmt::format("a translation corpus needs {0} (TSV: source<TAB>target) or {0}_src "
                                 "and {0}_tgt (aligned files)",
                                 name));
    return {};
  }
  const auto key = tsv ? name : name + "_src";
  try {
    const auto invalid_utf8 = configs::read_invalid_utf8(s);
    int64_t skipped = 0;
    const auto path = s.require<std::string>(key);
    auto pairs = tsv ? data::read_parallel_tsv(path, invalid_utf8, &skipped)
                     : data::read_parallel_files(path, s.require<std::string>(name + "_tgt"), invalid_utf8, &skipped);
    configs::report_skipped_lines(s, key, path, skipped);
    return pairs;
  } catch (const c10::Error& error) {
    s.fail(key, error.what_without_backtrace());
  }
}

/// The SentencePiece files of `data.tokenizer`: trained from `train` when missing (when `train` is given).
Tokenizers tokenizers_of(const Section& data, const std::vector<data::ParallelPair>* train,
                                    int64_t src_vocab, int64_t tgt_vocab) {
  const auto settings = configs::read_tokenizer_settings(data, /*allow_joint=*/true);
  const auto& o = settings.options;
  if (src_vocab != o.vocab_size() || tgt_vocab != o.vocab_size()) {
    data.section("tokenizer")
        .fail("vocab_size", fmt::format("must equal model.src_vocab and model.tgt_vocab, got {} for src_vocab={}, "
                                        "tgt_vocab={}",
                                        o.vocab_size(), src_vocab, tgt_vocab));
  }
  auto load_or_train = [&](const std::string& path, const std::vector<std::string>& sentences) {
    return configs::load_or_train_tokenizer(data, settings, path, train == nullptr ? nullptr : &sentences);
  };
  std::vector<std::string> src_text, tgt_text;
  if (train != nullptr) {
    for (const auto& pair : *train) {
      src_text.push_back(pair.src);
      tgt_text.push_back(pair.tgt);
    }
  }
  if (settings.joint) {
    src_text.insert(src_text.end(), tgt_text.begin(), tgt_text.end());
    auto both = load_or_train(settings.prefix + ".model", src_text);
    return {both, both};
  }
  return {load_or_train(settings.prefix + ".src.model", src_text),
          load_or_train(settings.prefix + ".tgt.model", tgt_text)};
}

}  // namespace

std::unique_ptr<train::Seq2SeqTask> build_copy_task(const Section& s, const Config& config,
                                                    models::EncoderDecoder encoder_decoder) {
  data::CopyTaskOptions o;
  o.vocab(s.get_positive<int64_t>("vocab", o.vocab()))
      .seq_len(s.get_positive<int64_t>("seq_len", o.seq_len()))
      .batch_size(s.get_positive<int64_t>("batch_size", o.batch_size()))
      .start_symbol(s.get<int64_t>("start_symbol", o.start_symbol()))
      .pad(s.get<int64_t>("pad", o.pad()))
      .train_batches(s.get_positive<int64_t>("train_batches", o.train_batches()))
      .valid_batches(s.get_positive<int64_t>("valid_batches", o.valid_batches()))
      .seed(static_cast<uint64_t>(s.get_in_range<int64_t>("seed", static_cast<int64_t>(o.seed()), 0, INT64_MAX)));
  const auto& model_options = encoder_decoder->options;
  if (o.vocab() > model_options.src_vocab() || o.vocab() > model_options.tgt_vocab()) {
    s.fail("vocab", fmt::format("must not exceed the model's vocabularies (src_vocab={}, tgt_vocab={}), got {}",
                                model_options.src_vocab(), model_options.tgt_vocab(), o.vocab()));
  }
  if (o.seq_len() > model_options.max_len()) {
    s.fail("seq_len", fmt::format("must fit the model's positions (model.max_len={}), got {}", model_options.max_len(),
                                  o.seq_len()));
  }
  if (o.start_symbol() <= 0 || o.start_symbol() >= o.vocab()) {
    s.fail("start_symbol", fmt::format("must lie in [1, vocab={}), got {}", o.vocab(), o.start_symbol()));
  }
  s.finish();

  train::Seq2SeqSample sample;
  sample.start_symbol = o.start_symbol();
  sample.max_len = o.seq_len();
  sample.expect_copy = true;
  if (auto section = config.root().optional_section("sample")) {
    sample.src = section->get<std::vector<int64_t>>("src", {});
    sample.max_len = section->get_positive<int64_t>("max_len", static_cast<int64_t>(sample.src.size()));
    for (auto token : sample.src) {
      if (token < 0 || token >= o.vocab()) {
        section->fail("src", fmt::format("tokens must lie in [0, vocab={}), got {}", o.vocab(), token));
      }
    }
    section->finish();
  }

  auto loss = configs::build_loss(config, configs::LossContext{model_options.tgt_vocab(), o.pad()});
  return std::make_unique<train::Seq2SeqTask>(encoder_decoder, std::make_shared<data::CopyTask>(o), std::move(loss),
                                              sample);
}

std::unique_ptr<train::TranslationTask> build_translation_task(const Section& s, const Config& config,
                                                               models::EncoderDecoder encoder_decoder) {
  train::TranslationTaskOptions o;
  const auto batching = configs::read_token_batching(s);
  train::TranslatorOptions decoding;
  decoding.beam_size(s.get_in_range<int64_t>("bleu_beam", decoding.beam_size(), 1, 64));
  o.batching(batching)
      .max_tokens(s.get_positive<int64_t>("max_tokens", o.max_tokens()))
      .workers(s.get_in_range<int64_t>("workers", o.workers(), 0, 64))
      .prefetch(s.get_positive<int64_t>("prefetch", o.prefetch()))
      .bleu_sentences(s.get_in_range<int64_t>("bleu_sentences", o.bleu_sentences(), -1, INT64_MAX))
      .samples(s.get_in_range<int64_t>("samples", o.samples(), 0, 100))
      .decoding(decoding);
  const auto train_subset = s.get_in_range<int64_t>("train_subset", 0, 0, INT64_MAX);
  if (o.batching().batch_tokens() < o.max_tokens() + 2) {
    s.fail("batch_tokens", fmt::format("must hold one pair of max_tokens={} pieces plus bos and eos, got {}",
                                       o.max_tokens(), o.batching().batch_tokens()));
  }
  if (o.max_tokens() + 2 > encoder_decoder->options.max_len()) {
    s.fail("max_tokens", fmt::format("must leave room for bos and eos within the model's positions (model.max_len={}), "
                                     "got {}",
                                     encoder_decoder->options.max_len(), o.max_tokens()));
  }
  auto train = read_split(s, "train", true);
  auto valid = read_split(s, "valid", true);
  auto test = read_split(s, "test", false);
  if (train_subset > 0 && train_subset < static_cast<int64_t>(train.size())) train.resize(train_subset);
  if (train.empty()) s.fail("train", "the training split holds no pairs");
  if (valid.empty()) s.fail("valid", "the validation split holds no pairs");
  const auto& options = encoder_decoder->options;
  auto tokenizers = tokenizers_of(s, &train, options.src_vocab(), options.tgt_vocab());
  s.finish();

  auto loss = configs::build_loss(config, configs::LossContext{options.tgt_vocab(), tokenizers.tgt->pad_id()});
  auto task = std::make_unique<train::TranslationTask>(encoder_decoder, tokenizers.src, tokenizers.tgt, train, valid,
                                                       std::move(loss), o);
  task->set_test(std::move(test));
  const auto& data = task->train_data();
  std::cerr << fmt::format(
      "translation data: {} training pairs ({} longer than {} pieces left out), {} valid, {} test, "
      "{} batches of <= {} tokens per epoch\n",
      data.size(), data.dropped, o.max_tokens(), valid.size(), task->test_pairs().size(), task->batches_per_epoch(),
      o.batching().batch_tokens());
  return task;
}

class TranslationModel : public FamilyModelOf<models::EncoderDecoder> {
 public:
  using FamilyModelOf::FamilyModelOf;

  int64_t model_size() const override { return model_->options.d_model(); }

  std::unique_ptr<train::Task> build_task(const Config& config) const override {
    auto data = data_section(config);
    if (is_copy_task(data)) return build_copy_task(data, config, model_);
    return build_translation_task(data, config, model_);
  }

  train::TorchScriptExportOptions script_export_options(const Config& config) const override {
    train::TorchScriptExportOptions options;
    auto data = data_section(config);
    if (is_copy_task(data)) {
      const data::CopyTaskOptions defaults;
      return options.start_symbol(data.get<int64_t>("start_symbol", defaults.start_symbol()))
          .pad(data.get<int64_t>("pad", defaults.pad()));
    }
    auto tokenizers = tokenizers_of_config(config);
    options.start_symbol(tokenizers.tgt->bos_id()).end_symbol(tokenizers.tgt->eos_id()).pad(tokenizers.tgt->pad_id());
    train::ExtraFiles files;
    if (tokenizers.src == tokenizers.tgt) {
      files["tokenizer.model"] = data::read_text_file(tokenizers.src->path(), "tokenizer");
    } else {
      files["src_tokenizer.model"] = data::read_text_file(tokenizers.src->path(), "tokenizer");
      files["tgt_tokenizer.model"] = data::read_text_file(tokenizers.tgt->path(), "tokenizer");
    }
    return options.extra_files(files);
  }

  void eval(const Config& config, const EvalRequest& request, std::ostream& out) const override {
    auto data = data_section(config);
    if (is_copy_task(data)) return FamilyModel::eval(config, request, out);
    auto task = build_translation_task(data, config, model_);
    task->to(device());
    const bool test = request.split == "test";
    if (test && task->test_pairs().empty()) {
      throw UsageError("--split", "the config's data section names no test split (data.test)");
    }
    const auto& pairs = test ? task->test_pairs() : task->valid_data().text;
    auto metrics = task->evaluate_on(pairs, request.decoding);
    const auto beam = request.decoding.beam_size();
    out << fmt::format("eval {} on {} ({} split, {} pairs, {})", request.checkpoint, request.config_path,
                       request.split, pairs.size(), beam > 1 ? fmt::format("beam {}", beam) : "greedy");
    for (const auto& [metric, value] : metrics) out << fmt::format(" | {} {:.4f}", metric, value);
    out << "\n";
  }

  std::vector<int64_t> decode(const Config& config, const std::vector<int64_t>& source,
                              int64_t max_len) const override {
    auto data = data_section(config);
    if (!is_copy_task(data)) unsupported("decode token ids", "decode serves copy-task models; use translate");
    auto task = build_copy_task(data, config, model_);
    task->to(device());
    return task->decode(source, max_len);
  }

  train::Translator translator(const Config& config) const override {
    auto tokenizers = tokenizers_of_config(config);
    return train::Translator(model_, tokenizers.src, tokenizers.tgt);
  }

  /// The cross-attention of the translation the model makes of the input: rows are the target
  /// tokens it produced (each row the attention of the decoder position that produced it), columns
  /// the source tokens.
  AttentionView attention(const Config& config, const AttentionRequest& request) const override {
    auto translator = this->translator(config);
    const auto& src_tokens = translator.src_tokenizer();
    const auto& tgt_tokens = translator.tgt_tokenizer();
    const auto source = translator.encode_source(request.input, request.decoding.max_src_tokens());  // pieces, eos
    const auto target = translator.translate_ids({source}, request.decoding).front();                // without bos, eos
    std::vector<int64_t> decoder_input{tgt_tokens.bos_id()};
    decoder_input.insert(decoder_input.end(), target.begin(), target.end());

    // A teacher-forced pass over what was decoded, recording every attention module.
    torch::NoGradGuard no_grad;
    const auto model = model_.ptr();
    model->eval();
    const auto as_ids = torch::TensorOptions().dtype(torch::kLong);
    const auto src = torch::tensor(source, as_ids).unsqueeze(0).to(device());         // [1, S]
    const auto tgt = torch::tensor(decoder_input, as_ids).unsqueeze(0).to(device());  // [1, T]
    const auto src_mask = torch::ones({1, 1, src.size(1)}, torch::TensorOptions().dtype(torch::kBool).device(device()));
    models::AttentionRecorder recorder(*model_.ptr());
    model->forward(src, tgt, src_mask, data::subsequent_mask(tgt.size(1), device()));
    std::vector<torch::Tensor> layers;  // each [h, T, S]
    for (const auto& [name, weights] : recorder.maps()) {
      if (name.size() > 9 && name.compare(name.size() - 9, 9, ".src_attn") == 0) {
        layers.push_back(weights[0].to(torch::kCPU, torch::kFloat));
      }
    }
    AttentionView view;
    std::tie(view.map_titles, view.maps) = layer_or_head_maps(layers, request);
    for (const auto id : target) view.row_labels.push_back(tgt_tokens.id_to_piece(id));
    view.row_labels.push_back(tgt_tokens.id_to_piece(tgt_tokens.eos_id()));
    for (const auto id : source) view.col_labels.push_back(src_tokens.id_to_piece(id));
    view.title = fmt::format("cross-attention | {} → {}", request.input, tgt_tokens.decode(target));
    return view;
  }

 private:
  std::string family_name() const override { return "translation"; }

  static bool is_copy_task(const Section& data) { return data.require<std::string>("name") == "copy_task"; }

  /// The tokenizers training wrote; an error for a copy-task config.
  Tokenizers tokenizers_of_config(const Config& config) const {
    auto data = data_section(config);
    if (is_copy_task(data)) {
      data.fail("name", "expected a translation config (data.name: translation): the copy task has no tokenizers");
    }
    const auto& o = model_->options;
    return tokenizers_of(data, nullptr, o.src_vocab(), o.tgt_vocab());
  }
};

}  // namespace translation

Family translation_family() {
  return {
      "translation",
      "a sequence-to-sequence model",
      {{"encoder_decoder", "annotated Transformer encoder-decoder (translation, copy task)"}},
      {{"copy_task", "the annotated Transformer's copy task (synthetic)"},
       {"translation", "a parallel corpus (TSV or aligned files) with SentencePiece, token-budget batches and BLEU"}},
      [](const Section& model) -> std::unique_ptr<FamilyModel> {
        return std::make_unique<translation::TranslationModel>(translation::build_encoder_decoder(model));
      }};
}

}  // namespace torchzoo::families
