#include "torchzoo/configs/builders.h"
#include "torchzoo/data/copy_task.h"
#include "torchzoo/layers/detail/format.h"
#include "torchzoo/models/encoder_decoder.h"

namespace torchzoo::configs {
namespace {

/// The model as an EncoderDecoder, or an error at data.name saying which model family it needs.
models::EncoderDecoder require_encoder_decoder(const Section& data, const std::shared_ptr<torch::nn::Module>& model) {
  auto seq2seq = std::dynamic_pointer_cast<models::EncoderDecoderImpl>(model);
  if (!seq2seq) {
    data.fail("name", fmt::format("data '{}' trains a sequence-to-sequence model (model.name: encoder_decoder), "
                                  "got a {}",
                                  data.require<std::string>("name"), model->name()));
  }
  return models::EncoderDecoder(seq2seq);
}

train::TokenLoss build_loss(const Config& config, const LossContext& context) {
  auto loss = config.section("loss");
  return lookup(loss_registry(), loss)(loss, context);
}

}  // namespace

std::unique_ptr<train::Task> build_copy_task(const Section& s, const Config& config,
                                             std::shared_ptr<torch::nn::Module> model) {
  auto encoder_decoder = require_encoder_decoder(s, model);
  data::CopyTaskOptions o;
  o.vocab(s.get_positive<int64_t>("vocab", o.vocab()))
      .seq_len(s.get_positive<int64_t>("seq_len", o.seq_len()))
      .batch_size(s.get_positive<int64_t>("batch_size", o.batch_size()))
      .start_symbol(s.get<int64_t>("start_symbol", o.start_symbol()))
      .pad(s.get<int64_t>("pad", o.pad()))
      .train_batches(s.get_positive<int64_t>("train_batches", o.train_batches()))
      .valid_batches(s.get_positive<int64_t>("valid_batches", o.valid_batches()))
      .seed(static_cast<uint64_t>(s.get_in_range<int64_t>("seed", 1, 0, INT64_MAX)));
  const auto& model_options = encoder_decoder->options;
  if (o.vocab() > model_options.src_vocab() || o.vocab() > model_options.tgt_vocab()) {
    s.fail("vocab", fmt::format("must not exceed the model's vocabularies (src_vocab={}, tgt_vocab={}), got {}",
                                model_options.src_vocab(), model_options.tgt_vocab(), o.vocab()));
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

  auto loss = build_loss(config, LossContext{model_options.tgt_vocab(), o.pad()});
  return std::make_unique<train::Seq2SeqTask>(encoder_decoder, std::make_shared<data::CopyTask>(o), std::move(loss),
                                              sample);
}

}  // namespace torchzoo::configs
