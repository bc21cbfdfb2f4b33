#pragma once
// Text in, text out: SentencePiece-encodes source sentences, decodes them with
// an EncoderDecoder (batched greedy or beam search, with the key/value cache)
// and turns the output pieces back into text. Sentences are sorted by length
// into batches so that little of each batch is padding, and the translations
// come back in input order. Used by `torchzoo translate`, by validation BLEU
// during training and by the decoding benchmark.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include "torchzoo/data/sentencepiece_tokenizer.h"
#include "torchzoo/models/encoder_decoder.h"

namespace torchzoo::train {

struct TranslatorOptions {
  /// 1: batched greedy decoding; more: beam search with this many beams.
  TORCH_ARG(int64_t, beam_size) = 1;
  /// Beam search length penalty alpha (see train/decode/beam_search.h); 0: none.
  TORCH_ARG(double, length_penalty) = 0.6;
  /// Longest output, per sentence, for greedy and beam search alike (train/decode/beam_search.h,
  /// max_output_length): floor(max_len_a * source tokens) + max_len_b target tokens, end symbol
  /// included ...
  TORCH_ARG(double, max_len_a) = 1.5;
  TORCH_ARG(int64_t, max_len_b) = 10;
  /// ... and at most this.
  TORCH_ARG(int64_t, max_len) = 256;
  /// What a batch holds at most: batch_size sentences, or (batch_by_tokens) batch_size source tokens
  /// counted with padding -- rows x the longest source of the batch, as CTranslate2's batch_type
  /// "tokens" -- and always at least one sentence.
  TORCH_ARG(int64_t, batch_size) = 64;
  TORCH_ARG(bool, batch_by_tokens) = false;
  /// Incremental decoding with cached keys and values (false: re-run the decoder on the prefix).
  TORCH_ARG(bool, use_cache) = true;
  /// Source sentences longer than this many tokens are cut (the model's positional encoding bounds it).
  TORCH_ARG(int64_t, max_src_tokens) = 256;
};

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

  /// Target ids (without bos and eos) of sources as encode_source makes them.
  std::vector<std::vector<int64_t>> translate_ids(const std::vector<std::vector<int64_t>>& sources,
                                                  const TranslatorOptions& options,
                                                  const std::function<void(int64_t, int64_t)>& progress = {});

  /// Source ids as the model reads them: the sentence's pieces then eos.
  std::vector<int64_t> encode_source(const std::string& sentence, int64_t max_tokens) const;

  const data::SentencePieceTokenizer& src_tokenizer() const { return *src_tokenizer_; }
  const data::SentencePieceTokenizer& tgt_tokenizer() const { return *tgt_tokenizer_; }

 private:
  models::EncoderDecoder model_;
  std::shared_ptr<const data::SentencePieceTokenizer> src_tokenizer_;
  std::shared_ptr<const data::SentencePieceTokenizer> tgt_tokenizer_;
};

}  // namespace torchzoo::train
