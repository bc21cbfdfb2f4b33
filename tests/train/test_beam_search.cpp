#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "torchzoo/data/masks.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/decode/beam_search.h"
#include "torchzoo/train/decode/greedy_decode.h"

using namespace torchzoo;
using train::BeamSearchOptions;
using train::Hypothesis;

namespace {

constexpr int64_t kBeamSrcVocab = 13;
constexpr int64_t kBeamStart = 1;
constexpr int64_t kBeamEnd = 2;

struct ModelSpec {
  int64_t tgt_vocab = 11;
  bool norm_first = true;
  bool fused = true;
  /// The generator's weights are multiplied by this: sharper distributions, fewer near ties.
  double sharpness = 3.0;
};

models::EncoderDecoder random_beam_model(const ModelSpec& spec, uint64_t seed) {
  torch::manual_seed(seed);
  models::EncoderDecoder model(models::EncoderDecoderOptions(kBeamSrcVocab, spec.tgt_vocab)
                                   .num_layers(2)
                                   .d_model(32)
                                   .d_ff(64)
                                   .num_heads(4)
                                   .dropout(0.0)
                                   .norm_first(spec.norm_first)
                                   .fused_attention(spec.fused));
  torch::NoGradGuard no_grad;
  model->generator->proj->weight.mul_(spec.sharpness);
  model->eval();
  return model;
}

struct Sources {
  torch::Tensor src, src_mask;
  std::vector<int64_t> lengths;

  /// Sentence s alone, without padding.
  Sources row(int64_t s) const {
    auto one = src.narrow(0, s, 1).narrow(1, 0, lengths[s]);
    return {one, data::padding_mask(one, 0), {lengths[s]}};
  }
};

/// `batch` sources of random lengths in [2, max_len] (tokens 3 .. kBeamSrcVocab - 1), padded with 0.
Sources random_beam_sources(int64_t batch, int64_t max_len) {
  auto src = torch::randint(3, kBeamSrcVocab, {batch, max_len}, torch::kLong);
  auto lengths = torch::randint(2, max_len + 1, {batch}, torch::kLong);
  lengths[0] = max_len;
  src.masked_fill_(torch::arange(max_len).unsqueeze(0).ge(lengths.unsqueeze(1)), 0);
  return {src, data::padding_mask(src, 0),
          std::vector<int64_t>(lengths.data_ptr<int64_t>(), lengths.data_ptr<int64_t>() + batch)};
}

/// log P(tokens [then the end symbol] | source), by decoding the whole sequence at once.
double sequence_log_prob(models::EncoderDecoderImpl& model, const Sources& source, const std::vector<int64_t>& tokens,
                         bool ends) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> input{kBeamStart};
  input.insert(input.end(), tokens.begin(), tokens.end());
  std::vector<int64_t> target = tokens;
  if (ends) target.push_back(kBeamEnd);
  input.resize(target.size());
  auto ys = torch::tensor(input, torch::kLong).view({1, -1});
  auto memory = model.encode(source.src, source.src_mask);
  auto log_probs = model.generator(model.decode(memory, source.src_mask, ys, data::subsequent_mask(ys.size(1))))[0];
  return log_probs.gather(1, torch::tensor(target, torch::kLong).view({-1, 1})).sum().item<double>();
}

/// Every output of at most max_len tokens with its log-probability and score, by enumeration
/// (the brute-force reference of beam search): sequences ending in the end symbol, and sequences
/// of max_len tokens without it.
void enumerate(models::EncoderDecoderImpl& model, const torch::Tensor& memory, const torch::Tensor& src_mask,
               std::vector<int64_t> prefix, double log_prob, int64_t max_len, double alpha,
               std::vector<Hypothesis>& out) {
  auto ys = torch::tensor(prefix, torch::kLong).view({1, -1});
  auto next = model.generator(model.decode(memory, src_mask, ys, data::subsequent_mask(ys.size(1))).select(1, -1))[0];
  const auto length = static_cast<int64_t>(prefix.size());  // of the output once the next token is appended
  for (int64_t v = 0; v < next.size(0); ++v) {
    const double lp = log_prob + next[v].item<double>();
    std::vector<int64_t> tokens(prefix.begin() + 1, prefix.end());
    if (v == kBeamEnd) {
      out.push_back({tokens, lp / train::length_penalty(length, alpha), lp});
    } else if (length == max_len) {
      tokens.push_back(v);
      out.push_back({tokens, lp / train::length_penalty(length, alpha), lp});
    } else {
      auto longer = prefix;
      longer.push_back(v);
      enumerate(model, memory, src_mask, longer, lp, max_len, alpha, out);
    }
  }
}

/// The greedy output row without its start symbol, cut before the end symbol.
std::vector<int64_t> greedy_tokens(const torch::Tensor& row) {
  std::vector<int64_t> tokens;
  for (int64_t i = 1; i < row.size(0) && row[i].item<int64_t>() != kBeamEnd; ++i)
    tokens.push_back(row[i].item<int64_t>());
  return tokens;
}

}  // namespace

TEST_CASE("GNMT length penalty", "[beam_search]") {
  CHECK(train::length_penalty(7, 0.0) == 1.0);
  CHECK(train::length_penalty(1, 0.6) == Approx(1.0));
  CHECK(train::length_penalty(7, 0.6) == Approx(std::pow(2.0, 0.6)));
  CHECK(train::length_penalty(25, 1.0) == Approx(5.0));
}

TEST_CASE("Beam search with one beam is greedy decoding", "[beam_search]") {
  const bool norm_first = GENERATE(true, false);
  INFO((norm_first ? "pre" : "post") << "-norm");
  for (uint64_t seed : {40, 41, 42}) {
    INFO("seed " << seed);
    ModelSpec spec;
    spec.norm_first = norm_first;
    auto model = random_beam_model(spec, seed);
    const auto sources = random_beam_sources(16, 9);
    auto options = BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(1).pad(-1).max_len_a(0).max_len_b(10);
    const auto beams = train::beam_search(*model, sources.src, sources.src_mask, options);
    const auto greedy = train::greedy_decode(*model, sources.src, sources.src_mask,
                                             train::GreedyDecodeOptions(11, kBeamStart).end_symbol(kBeamEnd));
    REQUIRE(beams.size() == 16);
    for (int64_t s = 0; s < 16; ++s) {
      INFO("sentence " << s);
      REQUIRE(beams[s].size() == 1);
      CHECK(beams[s][0].tokens == greedy_tokens(greedy[s]));
    }
  }
}

TEST_CASE("Cached beam search equals beam search re-decoding the prefix", "[beam_search][incremental]") {
  const bool norm_first = GENERATE(true, false);
  const bool fused = GENERATE(true, false);
  INFO((norm_first ? "pre" : "post") << "-norm, " << (fused ? "fused" : "math") << " attention");
  ModelSpec spec;
  spec.norm_first = norm_first;
  spec.fused = fused;
  auto model = random_beam_model(spec, 50 + 2 * norm_first + fused);
  const auto sources = random_beam_sources(6, 8);
  auto options = BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(4).n_best(3);
  const auto cached = train::beam_search(*model, sources.src, sources.src_mask, options);
  const auto uncached = train::beam_search(*model, sources.src, sources.src_mask, options.use_cache(false));
  for (size_t s = 0; s < cached.size(); ++s) {
    REQUIRE(cached[s].size() == uncached[s].size());
    for (size_t k = 0; k < cached[s].size(); ++k) {
      INFO("sentence " << s << ", hypothesis " << k);
      CHECK(cached[s][k].tokens == uncached[s][k].tokens);
      CHECK(cached[s][k].score == Approx(uncached[s][k].score).margin(1e-5));
    }
  }
}

TEST_CASE("Beam search n-best lists are sorted, with the log-probabilities and scores of their tokens",
          "[beam_search]") {
  auto model = random_beam_model(ModelSpec{}, 60);
  const auto sources = random_beam_sources(5, 7);
  auto options =
      BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(5).n_best(5).length_penalty(1.0).max_len_a(1.0).max_len_b(2);
  const auto nbest = train::beam_search(*model, sources.src, sources.src_mask, options);
  REQUIRE(nbest.size() == 5);
  for (size_t s = 0; s < nbest.size(); ++s) {
    const int64_t max_len = sources.lengths[s] + 2;
    REQUIRE(nbest[s].size() == 5);
    for (size_t k = 0; k < nbest[s].size(); ++k) {
      const auto& h = nbest[s][k];
      INFO("sentence " << s << ", hypothesis " << k);
      if (k > 0) CHECK(h.score <= nbest[s][k - 1].score);
      CHECK(std::find(h.tokens.begin(), h.tokens.end(), kBeamEnd) == h.tokens.end());
      REQUIRE(static_cast<int64_t>(h.tokens.size()) <= max_len);
      // Shorter than the maximum: ended by the end symbol, which counts in |Y|.
      const bool ends = static_cast<int64_t>(h.tokens.size()) < max_len;
      const auto length = static_cast<int64_t>(h.tokens.size()) + (ends ? 1 : 0);
      CHECK(h.log_prob == Approx(sequence_log_prob(*model, sources.row(s), h.tokens, ends)).margin(1e-4));
      CHECK(h.score == Approx(h.log_prob / train::length_penalty(length, 1.0)).margin(1e-9));
    }
    // Distinct hypotheses.
    for (size_t a = 0; a < nbest[s].size(); ++a) {
      for (size_t b = a + 1; b < nbest[s].size(); ++b) CHECK(nbest[s][a].tokens != nbest[s][b].tokens);
    }
  }
}

TEST_CASE("Beam search as wide as the output space finds the best output by enumeration", "[beam_search]") {
  // 5 target tokens, outputs of at most 3 tokens: 5^3 beams never prune, so the search must return
  // the enumeration's best, and with n_best = beam_size every one of the 1 + 4 + 16 + 64 outputs.
  const double alpha = GENERATE(0.0, 0.6, 2.0);
  INFO("alpha " << alpha);
  ModelSpec spec;
  spec.tgt_vocab = 5;
  spec.sharpness = 1.5;
  auto model = random_beam_model(spec, 70);
  const auto sources = random_beam_sources(2, 6);
  auto options =
      BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(125).pad(-1).length_penalty(alpha).max_len_a(0).max_len_b(3);
  const auto all = train::beam_search(*model, sources.src, sources.src_mask, options.n_best(125));
  const auto best = train::beam_search(*model, sources.src, sources.src_mask, options.n_best(1));
  for (int64_t s = 0; s < 2; ++s) {
    INFO("sentence " << s);
    torch::NoGradGuard no_grad;
    const auto source = sources.row(s);
    std::vector<Hypothesis> expected;
    enumerate(*model, model->encode(source.src, source.src_mask), source.src_mask, {kBeamStart}, 0.0, 3, alpha,
              expected);
    REQUIRE(expected.size() == 85);
    std::stable_sort(expected.begin(), expected.end(),
                     [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
    REQUIRE(expected[0].score - expected[1].score > 1e-4);  // the best is not a near tie

    REQUIRE(all[s].size() == 85);
    std::map<std::vector<int64_t>, double> found;
    for (const auto& h : all[s]) found[h.tokens] = h.score;
    REQUIRE(found.size() == 85);
    for (const auto& h : expected) {
      REQUIRE(found.count(h.tokens));
      CHECK(found[h.tokens] == Approx(h.score).margin(1e-5));
    }
    CHECK(all[s][0].tokens == expected[0].tokens);
    REQUIRE(best[s].size() == 1);
    CHECK(best[s][0].tokens == expected[0].tokens);
    CHECK(best[s][0].score == Approx(expected[0].score).margin(1e-5));
  }
}

TEST_CASE("Beam search goes on while a live beam beats its finished hypotheses", "[beam_search]") {
  // A confident model whose other beams often end early: stopping as soon as beam_size hypotheses
  // have finished (fairseq's criterion alone) would return one of those poor early ones while the
  // near-certain best beam is still live, worse than greedy decoding in 3 of these 32 sentences.
  ModelSpec spec;
  spec.sharpness = 5.0;
  auto model = random_beam_model(spec, 100);
  {
    torch::NoGradGuard no_grad;
    model->generator->proj->bias[kBeamEnd] += 4.0;
  }
  const auto sources = random_beam_sources(32, 8);
  const auto beams = train::beam_search(
      *model, sources.src, sources.src_mask,
      BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(4).length_penalty(0.0).pad(-1).max_len_a(0).max_len_b(30));
  const auto greedy = train::greedy_decode(*model, sources.src, sources.src_mask,
                                           train::GreedyDecodeOptions(31, kBeamStart).end_symbol(kBeamEnd));
  for (int64_t s = 0; s < 32; ++s) {
    INFO("sentence " << s);
    const auto tokens = greedy_tokens(greedy[s]);
    const bool ends = greedy[s].eq(kBeamEnd).any().item<bool>();
    CHECK(beams[s][0].score >= sequence_log_prob(*model, sources.row(s), tokens, ends) - 1e-4);
  }
}

TEST_CASE("Beam search batches sentences of different lengths as it decodes them one by one", "[beam_search]") {
  auto model = random_beam_model(ModelSpec{}, 80);
  const auto sources = random_beam_sources(6, 10);
  auto options = BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(4).n_best(2);
  const auto batched = train::beam_search(*model, sources.src, sources.src_mask, options);
  for (int64_t s = 0; s < 6; ++s) {
    INFO("sentence " << s << " of length " << sources.lengths[s]);
    const auto source = sources.row(s);
    const auto alone = train::beam_search(*model, source.src, source.src_mask, options);
    REQUIRE(alone.size() == 1);
    REQUIRE(batched[s].size() == alone[0].size());
    for (size_t k = 0; k < alone[0].size(); ++k) {
      CHECK(batched[s][k].tokens == alone[0][k].tokens);
      CHECK(batched[s][k].score == Approx(alone[0][k].score).margin(1e-5));
    }
  }
}

TEST_CASE("Beam search ends hypotheses at the end symbol and at the maximum length", "[beam_search]") {
  auto model = random_beam_model(ModelSpec{}, 90);
  const auto sources = random_beam_sources(3, 6);

  SECTION("a likely end symbol ends the search at once") {
    {
      torch::NoGradGuard no_grad;
      model->generator->proj->bias[kBeamEnd] += 50.0;
    }
    const auto nbest = train::beam_search(*model, sources.src, sources.src_mask,
                                          BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(3).n_best(3));
    for (const auto& hypotheses : nbest) {
      REQUIRE(hypotheses.size() == 3);
      CHECK(hypotheses[0].tokens.empty());
      CHECK(hypotheses[0].log_prob > -1e-3);
      for (const auto& h : hypotheses) {
        CHECK(h.tokens.size() <= 1);  // beam_size finished hypotheses by the second step
      }
    }
  }
  SECTION("without an end symbol every hypothesis has the maximum length, a * source length + b") {
    auto options = BeamSearchOptions(kBeamStart, -1).beam_size(3).n_best(2).max_len_a(0.5).max_len_b(2);
    const auto nbest = train::beam_search(*model, sources.src, sources.src_mask, options);
    for (size_t s = 0; s < nbest.size(); ++s) {
      INFO("sentence " << s);
      REQUIRE(nbest[s].size() == 2);
      for (const auto& h : nbest[s]) CHECK(static_cast<int64_t>(h.tokens.size()) == sources.lengths[s] / 2 + 2);
    }
    const auto capped = train::beam_search(*model, sources.src, sources.src_mask, options.max_len(3));
    for (const auto& hypotheses : capped) CHECK(hypotheses[0].tokens.size() == 3);
  }
  SECTION("the pad token is never generated") {
    {
      torch::NoGradGuard no_grad;
      model->generator->proj->bias[0] += 50.0;
    }
    const auto nbest = train::beam_search(*model, sources.src, sources.src_mask,
                                          BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(2).n_best(2).pad(0));
    for (const auto& hypotheses : nbest) {
      for (const auto& h : hypotheses) CHECK(std::find(h.tokens.begin(), h.tokens.end(), 0) == h.tokens.end());
    }
  }
}

TEST_CASE("Beam search validates its options and inputs", "[beam_search][errors]") {
  auto model = random_beam_model(ModelSpec{}, 91);
  const auto sources = random_beam_sources(2, 4);
  auto run = [&](const BeamSearchOptions& o) { return train::beam_search(*model, sources.src, sources.src_mask, o); };
  REQUIRE_THROWS_WITH(run(BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(0)),
                      Catch::Contains("beam_search: beam_size must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(run(BeamSearchOptions(kBeamStart, kBeamEnd).beam_size(2).n_best(3)),
                      Catch::Contains("beam_search: n_best must be in [1, beam_size = 2], got 3"));
  REQUIRE_THROWS_WITH(run(BeamSearchOptions(kBeamStart, kBeamEnd).length_penalty(-0.5)),
                      Catch::Contains("beam_search: length_penalty must be >= 0, got -0.5"));
  REQUIRE_THROWS_WITH(
      train::beam_search(*model, sources.src, sources.src_mask.to(torch::kLong),
                         BeamSearchOptions(kBeamStart, kBeamEnd)),
      Catch::Contains("beam_search: expected a bool src_mask of shape [2, 1, 4], got [2, 1, 4] of type Long"));
  REQUIRE_THROWS_WITH(
      train::beam_search(*model, sources.src.view({-1}), sources.src_mask, BeamSearchOptions(kBeamStart, kBeamEnd)),
      Catch::Contains("beam_search: expected src of shape [B, T_src], got [8]"));
}
