#pragma once
// Subword tokenization with SentencePiece (Kudo & Richardson 2018, "SentencePiece:
// A simple and language independent subword tokenizer and detokenizer for Neural
// Text Processing", EMNLP demo): raw text in, piece ids out, and back, with no
// language-specific pre-tokenizer. Spaces are kept as the meta symbol "▁" (U+2581)
// at the start of pieces, which is what makes decoding lossless.
//
// Special ids are fixed by train_sentencepiece: pad 0, unk 1, bos 2 ("<s>"),
// eos 3 ("</s>"). The tokenizer reads them from the model, so a model config
// should take them from SentencePieceTokenizer rather than hard-code them.
//
// Normalisation (SentencePieceTrainOptions::normalization, stored in the model
// and applied by encode): the default "nmt_nfkc" is SentencePiece's own default
// and what Marian, fairseq and OpenNMT users get: NFKC (composed umlauts, "ﬁ" ->
// "fi", full-width -> ASCII), control characters dropped, any Unicode space ->
// " ", and leading, trailing and repeated spaces removed. decode(encode(s)) == s
// holds exactly when s is already in that form and every character of s was
// seen in training (character_coverage 1.0 keeps all of them); otherwise decode
// returns the normalised text, and an unseen character comes back as " ⁇ "
// (the rendering of <unk>). "identity" skips the Unicode rewriting (only the
// space cleanup remains), for corpora that must keep their exact code points.
//
// A SentencePieceTokenizer is cheap to copy (copies share one immutable
// SentencePieceProcessor) and encode/decode/pieces may be called from several
// threads at once: SentencePieceProcessor's Encode/Decode are const and keep no
// mutable state.
//
// Example:
//   train_sentencepiece(lines, "runs/spm.model", SentencePieceTrainOptions().vocab_size(8000));
//   SentencePieceTokenizer tok("runs/spm.model");
//   std::vector<int64_t> ids = tok.encode("Die Straße ist grün.");  // no bos/eos
//   std::string text = tok.decode(ids);                             // "Die Straße ist grün."
#include <torch/arg.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace torchzoo::data {

/// Options of train_sentencepiece; the special ids are fixed (pad 0, unk 1, bos 2, eos 3).
struct SentencePieceTrainOptions {
  /// Pieces in the model, the four special ids included.
  TORCH_ARG(int64_t, vocab_size) = 8000;
  /// "unigram" (Kudo 2018), "bpe" (Sennrich et al. 2016), "char" or "word".
  TORCH_ARG(std::string, model_type) = "unigram";
  /// Normalisation rule stored in the model: "nmt_nfkc", "nfkc", "nmt_nfkc_cf", "nfkc_cf" (case folded) or
  /// "identity" (see the top of this file).
  TORCH_ARG(std::string, normalization) = "nmt_nfkc";
  /// Share of character occurrences the alphabet must cover; rarer characters become `<unk>`
  /// (1.0 for Latin-script languages, 0.9995 for CJK).
  TORCH_ARG(double, character_coverage) = 1.0;
  /// Train on a random subset of this many sentences (0: all), drawn by us from `seed` (SentencePiece's own
  /// sampler has a fixed seed).
  TORCH_ARG(int64_t, input_sentence_size) = 0;
  /// Seed of the subset above; SentencePiece training itself has no randomness.
  TORCH_ARG(uint64_t, seed) = 1;
  /// Threads of the unigram EM steps. Part of the result: unigram scores are sums of per-thread shares, so
  /// another thread count gives other scores and a few other pieces (10 of 8000 on 78k lines, 1 vs 2 threads).
  /// bpe, char and word pieces do not depend on it.
  TORCH_ARG(int64_t, num_threads) = 2;
};

/// Trains a SentencePiece model on `sentences` (one sentence each, in memory) and writes it to `model_path`
/// (a temporary file in the same folder, renamed into place). The result is a pure function of the sentences
/// and the options (num_threads included): training twice gives byte-identical files. Empty and all-blank sentences are
/// skipped; SentencePiece itself skips sentences longer than 4192 bytes. Its logging is kept to warnings and errors.
/// Errors name the model path and carry SentencePiece's message (e.g. a vocab_size too large for the corpus).
void train_sentencepiece(const std::vector<std::string>& sentences, const std::string& model_path,
                         const SentencePieceTrainOptions& options);

/// A loaded SentencePiece model (Kudo & Richardson 2018): text to piece ids and back. Cheap to copy;
/// encode, decode and pieces may be called from several threads at once.
///
/// Example:
///   train_sentencepiece(lines, "runs/spm.model", SentencePieceTrainOptions().vocab_size(8000));
///   SentencePieceTokenizer tok("runs/spm.model");
///   std::vector<int64_t> ids = tok.encode("Die Straße ist grün.");  // no bos/eos
///   std::string text = tok.decode(ids);                             // "Die Straße ist grün."
class SentencePieceTokenizer {
 public:
  /// Loads a model file; the model must define pad, unk, bos and eos (train_sentencepiece's do).
  explicit SentencePieceTokenizer(const std::string& model_path);

  /// Piece ids of `text` after normalisation, without bos/eos.
  std::vector<int64_t> encode(const std::string& text) const;
  /// Text of `ids`; pad, bos and eos are skipped, `<unk>` reads " ⁇ ". Ids outside [0, vocab_size) are an error.
  std::string decode(const std::vector<int64_t>& ids) const;
  /// The pieces of `text`, e.g. {"▁Die", "▁Straße", ...}.
  std::vector<std::string> pieces(const std::string& text) const;
  /// The piece with id `id`, e.g. "<pad>" for 0.
  std::string id_to_piece(int64_t id) const;

  /// Pieces in the model, the special ones included.
  int64_t vocab_size() const { return vocab_size_; }
  /// Padding id, read from the model (0 in train_sentencepiece's models).
  int64_t pad_id() const { return pad_id_; }
  /// Unknown-piece id (1 in train_sentencepiece's models).
  int64_t unk_id() const { return unk_id_; }
  /// Begin-of-sentence id (2 in train_sentencepiece's models).
  int64_t bos_id() const { return bos_id_; }
  /// End-of-sentence id (3 in train_sentencepiece's models).
  int64_t eos_id() const { return eos_id_; }
  /// The file the model was loaded from.
  const std::string& path() const { return path_; }

 private:
  void check_id(int64_t id) const;

  std::shared_ptr<const sentencepiece::SentencePieceProcessor> processor_;
  std::string path_;
  int64_t vocab_size_ = 0;
  int64_t pad_id_ = -1;
  int64_t unk_id_ = -1;
  int64_t bos_id_ = -1;
  int64_t eos_id_ = -1;
};

}  // namespace torchzoo::data
