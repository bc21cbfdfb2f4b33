#pragma once
// Text in, text out: SentencePiece-encodes source sentences, decodes them with
// an EncoderDecoder (batched greedy or beam search, with the key/value cache;
// sampling; n-best lists with scores)
// and turns the output pieces back into text. Sentences are sorted by length
// into batches so that little of each batch is padding, and the translations
// come back in input order. Used by `torchzoo translate`, by validation BLEU
// during training and by the decoding benchmark.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "torchzoo/data/sentencepiece_tokenizer.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/decode/beam_search.h"
#include "torchzoo/train/decode/sampling.h"

namespace torchzoo::train {

/// Options of Translator: greedy or beam search, the output length bound, the batching, the cache.
struct TranslatorOptions {
  /// 1: batched greedy decoding; more: beam search with this many beams.
  TORCH_ARG(int64_t, beam_size) = 1;
  /// Beam search length penalty alpha (see train/decode/beam_search.h); 0: none.
  TORCH_ARG(double, length_penalty) = 0.6;
  /// Longest output, per sentence, for greedy and beam search alike (train/decode/beam_search.h,
  /// max_output_length): floor(max_len_a * source tokens) + max_len_b target tokens, end symbol
  /// included ...
  TORCH_ARG(double, max_len_a) = 1.5;
  /// The constant term of that bound (see max_len_a).
  TORCH_ARG(int64_t, max_len_b) = 10;
  /// ... and at most this.
  TORCH_ARG(int64_t, max_len) = 256;
  /// What a batch holds at most: batch_size sentences, or (batch_by_tokens) batch_size source tokens
  /// counted with padding -- rows x the longest source of the batch, as CTranslate2's batch_type
  /// "tokens" -- and always at least one sentence.
  TORCH_ARG(int64_t, batch_size) = 64;
  /// Count batch_size in source tokens instead of sentences (see batch_size).
  TORCH_ARG(bool, batch_by_tokens) = false;
  /// Incremental decoding with cached keys and values (false: re-run the decoder on the prefix).
  TORCH_ARG(bool, use_cache) = true;
  /// Source sentences longer than this many tokens are cut (the model's positional encoding bounds it).
  TORCH_ARG(int64_t, max_src_tokens) = 256;
  /// Hypotheses per sentence translate_n_best returns, best first: at most beam_size.
  TORCH_ARG(int64_t, n_best) = 1;
  /// Draw each next token instead of taking the most probable one (temperature, top-k, top-p, as
  /// CTranslate2's sampling_temperature, sampling_topk, sampling_topp); with beam_size 1 only.
  TORCH_ARG(std::optional<SamplingOptions>, sampling) = std::nullopt;
  /// The draws' seed: the same seed, sentences and batching give the same translations.
  TORCH_ARG(uint64_t, seed) = 0;
};

/// One hypothesis of translate_n_best.
struct ScoredTranslation {
  std::string text;
  /// Length-normalised log-probability (beam search's ranking score; train/decode/beam_search.h).
  double score = 0.0;
  /// log P(translation, end of sentence | source).
  double log_prob = 0.0;
};

/// Translates text with an EncoderDecoder and its SentencePiece tokenizers: sentences batched by
/// length, decoded greedily or by beam search with a key/value cache, and detokenised.
///
/// Example:
///   Translator translator(model, src_spm, tgt_spm);
///   auto german = translator.translate({"Click OK."}, TranslatorOptions().beam_size(4));
class Translator {
 public:
  Translator(models::EncoderDecoder model, std::shared_ptr<const data::SentencePieceTokenizer> src_tokenizer,
             std::shared_ptr<const data::SentencePieceTokenizer> tgt_tokenizer);

  /// Translations of `sentences`, in order (empty sentences give empty translations).
  /// `progress(done, total)` is called after each batch when set.
  std::vector<std::string> translate(const std::vector<std::string>& sentences, const TranslatorOptions& options,
                                     const std::function<void(int64_t, int64_t)>& progress = {});

  /// The n_best best translations of each sentence by beam search, best first, with their scores
  /// (empty sentences: one empty translation scored 0). Sampling is refused: it scores nothing.
  std::vector<std::vector<ScoredTranslation>> translate_n_best(
      const std::vector<std::string>& sentences, const TranslatorOptions& options,
      const std::function<void(int64_t, int64_t)>& progress = {});

  /// Target ids (without bos and eos) of sources as encode_source makes them.
  std::vector<std::vector<int64_t>> translate_ids(const std::vector<std::vector<int64_t>>& sources,
                                                  const TranslatorOptions& options,
                                                  const std::function<void(int64_t, int64_t)>& progress = {});

  /// Source ids as the model reads them: the sentence's pieces then eos.
  std::vector<int64_t> encode_source(const std::string& sentence, int64_t max_tokens) const;

  const data::SentencePieceTokenizer& src_tokenizer() const { return *src_tokenizer_; }
  const data::SentencePieceTokenizer& tgt_tokenizer() const { return *tgt_tokenizer_; }

 private:
  /// encode_source of each sentence that is not blank; `rows` gets their indices.
  std::vector<std::vector<int64_t>> encode_sources(const std::vector<std::string>& sentences, int64_t max_tokens,
                                                   std::vector<size_t>& rows) const;
  /// Each source's hypotheses: beam search's n_best (n_best > 0), else greedy's (or sampling's) one,
  /// unscored. Batches, sorting and progress as translate_ids says.
  std::vector<std::vector<Hypothesis>> search(const std::vector<std::vector<int64_t>>& sources,
                                              const TranslatorOptions& options, int64_t n_best,
                                              const std::function<void(int64_t, int64_t)>& progress);

  models::EncoderDecoder model_;
  std::shared_ptr<const data::SentencePieceTokenizer> src_tokenizer_;
  std::shared_ptr<const data::SentencePieceTokenizer> tgt_tokenizer_;
};

}  // namespace torchzoo::train
