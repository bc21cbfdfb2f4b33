#include "torchzoo/train/decode/translator.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "torchzoo/data/masks.h"
#include "torchzoo/common/check.h"
#include "torchzoo/train/decode/beam_search.h"
#include "torchzoo/train/decode/greedy_decode.h"

namespace torchzoo::train {
namespace {

bool is_blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); });
}

/// Tokens of one output row up to (without) the end symbol.
std::vector<int64_t> until_end(const int64_t* tokens, int64_t length, int64_t end_symbol) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < length && tokens[i] != end_symbol; ++i) out.push_back(tokens[i]);
  return out;
}

}  // namespace

Translator::Translator(models::EncoderDecoder model, std::shared_ptr<const data::SentencePieceTokenizer> src_tokenizer,
                       std::shared_ptr<const data::SentencePieceTokenizer> tgt_tokenizer)
    : model_(std::move(model)), src_tokenizer_(std::move(src_tokenizer)), tgt_tokenizer_(std::move(tgt_tokenizer)) {
  TORCHZOO_CHECK(src_tokenizer_ && tgt_tokenizer_, "Translator: source and target tokenizers are required");
  TORCHZOO_CHECK(src_tokenizer_->vocab_size() == model_->options.src_vocab(),
                 "Translator: the source tokenizer {} has {} pieces, the model's src_vocab is {}",
                 src_tokenizer_->path(), src_tokenizer_->vocab_size(), model_->options.src_vocab());
  TORCHZOO_CHECK(tgt_tokenizer_->vocab_size() == model_->options.tgt_vocab(),
                 "Translator: the target tokenizer {} has {} pieces, the model's tgt_vocab is {}",
                 tgt_tokenizer_->path(), tgt_tokenizer_->vocab_size(), model_->options.tgt_vocab());
}

std::vector<int64_t> Translator::encode_source(const std::string& sentence, int64_t max_tokens) const {
  auto ids = src_tokenizer_->encode(sentence);
  if (static_cast<int64_t>(ids.size()) >= max_tokens)
    ids.resize(static_cast<size_t>(std::max<int64_t>(max_tokens - 1, 0)));
  ids.push_back(src_tokenizer_->eos_id());
  return ids;
}

std::vector<std::vector<int64_t>> Translator::encode_sources(const std::vector<std::string>& sentences,
                                                             int64_t max_tokens, std::vector<size_t>& rows) const {
  std::vector<std::vector<int64_t>> sources;
  for (size_t i = 0; i < sentences.size(); ++i) {
    if (is_blank(sentences[i])) continue;
    rows.push_back(i);
    sources.push_back(encode_source(sentences[i], max_tokens));
  }
  return sources;
}

std::vector<std::string> Translator::translate(const std::vector<std::string>& sentences,
                                               const TranslatorOptions& options,
                                               const std::function<void(int64_t, int64_t)>& progress) {
  std::vector<size_t> rows;  // which sentences are not blank
  const auto sources = encode_sources(sentences, options.max_src_tokens(), rows);
  auto outputs = translate_ids(sources, options, progress);
  std::vector<std::string> translations(sentences.size());
  for (size_t k = 0; k < rows.size(); ++k) translations[rows[k]] = tgt_tokenizer_->decode(outputs[k]);
  return translations;
}

std::vector<std::vector<int64_t>> Translator::translate_ids(const std::vector<std::vector<int64_t>>& sources,
                                                            const TranslatorOptions& options,
                                                            const std::function<void(int64_t, int64_t)>& progress) {
  auto hypotheses = search(sources, options, /*n_best=*/0, progress);
  std::vector<std::vector<int64_t>> outputs;
  for (auto& found : hypotheses)
    outputs.push_back(found.empty() ? std::vector<int64_t>() : std::move(found.front().tokens));
  return outputs;
}

std::vector<std::vector<ScoredTranslation>> Translator::translate_n_best(
    const std::vector<std::string>& sentences, const TranslatorOptions& options,
    const std::function<void(int64_t, int64_t)>& progress) {
  TORCHZOO_CHECK(!options.sampling(), "Translator: n-best lists come from beam search; sampling scores nothing");
  TORCHZOO_CHECK(options.n_best() >= 1 && options.n_best() <= options.beam_size(),
                 "Translator: n_best must be from 1 to the beam size {}, got {}", options.beam_size(),
                 options.n_best());
  std::vector<size_t> rows;  // which sentences are not blank
  const auto sources = encode_sources(sentences, options.max_src_tokens(), rows);
  const auto found = search(sources, options, options.n_best(), progress);
  std::vector<std::vector<ScoredTranslation>> translations(sentences.size(), {ScoredTranslation{}});
  for (size_t k = 0; k < rows.size(); ++k) {
    auto& list = translations[rows[k]];
    list.clear();
    for (const auto& hypothesis : found[k]) {
      list.push_back({tgt_tokenizer_->decode(hypothesis.tokens), hypothesis.score, hypothesis.log_prob});
    }
  }
  return translations;
}

std::vector<std::vector<Hypothesis>> Translator::search(const std::vector<std::vector<int64_t>>& sources,
                                                        const TranslatorOptions& options, int64_t n_best,
                                                        const std::function<void(int64_t, int64_t)>& progress) {
  TORCHZOO_CHECK(options.beam_size() >= 1, "Translator: beam_size must be >= 1, got {}", options.beam_size());
  TORCHZOO_CHECK(options.batch_size() >= 1, "Translator: batch_size must be >= 1, got {}", options.batch_size());
  TORCHZOO_CHECK(!options.sampling() || options.beam_size() == 1,
                 "Translator: sampling draws one token at a time (beam_size 1), got beam_size {}", options.beam_size());
  const auto total = static_cast<int64_t>(sources.size());
  std::vector<std::vector<Hypothesis>> outputs(sources.size());
  if (sources.empty()) return outputs;
  const int64_t pad = tgt_tokenizer_->pad_id(), bos = tgt_tokenizer_->bos_id(), eos = tgt_tokenizer_->eos_id();
  const auto device = model_->parameters().front().device();
  model_->eval();
  c10::InferenceMode inference;

  // Longest first: the first batch shows the worst-case memory at once.
  std::vector<size_t> order(sources.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sources[a].size() > sources[b].size(); });

  for (int64_t begin = 0, end = 0; begin < total; begin = end) {
    // Sorted longest first: the batch's first sentence sets its padded length.
    const int64_t longest = static_cast<int64_t>(sources[order[static_cast<size_t>(begin)]].size());
    TORCHZOO_CHECK(longest > 0, "Translator: a source holds no tokens (encode_source adds eos)");
    const int64_t rows =
        options.batch_by_tokens() ? std::max<int64_t>(1, options.batch_size() / longest) : options.batch_size();
    end = std::min(total, begin + rows);
    auto src = torch::full({end - begin, longest}, pad, torch::kLong);  // [B, T_src]
    auto* src_data = src.data_ptr<int64_t>();
    for (int64_t r = 0; r < end - begin; ++r) {
      const auto& ids = sources[order[static_cast<size_t>(begin + r)]];
      std::copy(ids.begin(), ids.end(), src_data + r * longest);
    }
    src = src.to(device);
    auto src_mask = data::padding_mask(src, pad);  // [B, 1, T_src]
    std::vector<int64_t> limits;                   // each sentence's longest output
    for (int64_t r = 0; r < end - begin; ++r) {
      const auto source_tokens = static_cast<int64_t>(sources[order[static_cast<size_t>(begin + r)]].size());
      limits.push_back(max_output_length(source_tokens, options.max_len_a(), options.max_len_b(), options.max_len()));
    }

    if (options.beam_size() == 1 && n_best == 0) {
      // Greedy decoding runs to the longest limit of the batch; each row is then cut at its own,
      // which is what decoding it alone would give.
      const int64_t longest_limit = *std::max_element(limits.begin(), limits.end());
      auto tokens = greedy_decode(*model_, src, src_mask,
                                  GreedyDecodeOptions(longest_limit + 1, bos)
                                      .end_symbol(eos)
                                      .pad(pad)
                                      .use_cache(options.use_cache())
                                      .sampling(options.sampling())
                                      .seed(options.seed() + static_cast<uint64_t>(begin)))  // batches draw apart
                        .to(torch::kCPU)
                        .contiguous();  // [B, <= longest_limit + 1], column 0 is bos
      for (int64_t r = 0; r < tokens.size(0); ++r) {
        const int64_t length = std::min(tokens.size(1) - 1, limits[static_cast<size_t>(r)]);
        Hypothesis found;
        found.tokens = until_end(tokens[r].data_ptr<int64_t>() + 1, length, eos);
        found.score = found.log_prob = std::nan("");  // greedy decoding keeps no scores
        outputs[order[static_cast<size_t>(begin + r)]] = {std::move(found)};
      }
    } else {
      auto hypotheses = beam_search(*model_, src, src_mask,
                                    BeamSearchOptions(bos, eos)
                                        .beam_size(options.beam_size())
                                        .n_best(std::max<int64_t>(n_best, 1))
                                        .pad(pad)
                                        .length_penalty(options.length_penalty())
                                        .max_len_a(options.max_len_a())
                                        .max_len_b(options.max_len_b())
                                        .max_len(options.max_len())
                                        .use_cache(options.use_cache()));
      for (int64_t r = 0; r < end - begin; ++r) {
        outputs[order[static_cast<size_t>(begin + r)]] = std::move(hypotheses[static_cast<size_t>(r)]);
      }
    }
    if (progress) progress(end, total);
  }
  return outputs;
}

}  // namespace torchzoo::train
