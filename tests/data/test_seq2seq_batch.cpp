#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/data/masks.h"
#include "torchzoo/data/seq2seq_batch.h"

using namespace torchzoo::data;

TEST_CASE("Seq2SeqBatch::make splits the target and builds masks", "[data][seq2seq_batch]") {
  const int64_t pad = 0;
  auto src = torch::tensor({1, 5, 6, 7, 1, 8, 0, 0, 1, 9, 4, 0}, torch::kLong).view({3, 4});
  auto tgt = torch::tensor({1, 5, 6, 7, 2, 1, 8, 2, 0, 0, 1, 9, 4, 2, 0}, torch::kLong).view({3, 5});
  auto batch = Seq2SeqBatch::make(src, tgt, pad);

  CHECK(batch.size() == 3);
  CHECK(torch::equal(batch.src, src));
  REQUIRE(batch.src_mask.sizes() == torch::IntArrayRef({3, 1, 4}));
  CHECK(torch::equal(batch.src_mask, padding_mask(src, pad)));
  REQUIRE(batch.tgt.sizes() == torch::IntArrayRef({3, 4}));
  REQUIRE(batch.tgt_y.sizes() == torch::IntArrayRef({3, 4}));
  CHECK(torch::equal(batch.tgt, tgt.narrow(1, 0, 4)));
  CHECK(torch::equal(batch.tgt_y, tgt.narrow(1, 1, 4)));
  REQUIRE(batch.tgt_mask.sizes() == torch::IntArrayRef({3, 4, 4}));
  CHECK(torch::equal(batch.tgt_mask, causal_padding_mask(tgt.narrow(1, 0, 4), pad)));
  // tgt_y rows: {5,6,7,2}, {8,2,0,0}, {9,4,2,0} -> 4 + 2 + 3 real tokens.
  CHECK(batch.ntokens == 9);
}

TEST_CASE("Seq2SeqBatch counts tokens against the given pad id", "[data][seq2seq_batch]") {
  auto rows = torch::tensor({1, 3, 2, 2, 1, 2, 2, 2}, torch::kLong).view({2, 4});
  CHECK(Seq2SeqBatch::make(rows, rows, /*pad=*/2).ntokens == 1);
  CHECK(Seq2SeqBatch::make(rows, rows, /*pad=*/0).ntokens == 6);
}

TEST_CASE("Seq2SeqBatch::to keeps the values", "[data][seq2seq_batch]") {
  auto rows = torch::tensor({1, 3, 4, 1, 5, 0}, torch::kLong).view({2, 3});
  auto batch = Seq2SeqBatch::make(rows, rows, 0);
  auto moved = batch.to(torch::kCPU);
  CHECK(torch::equal(moved.tgt_mask, batch.tgt_mask));
  CHECK(torch::equal(moved.tgt_y, batch.tgt_y));
  CHECK(moved.ntokens == batch.ntokens);
}

TEST_CASE("Seq2SeqBatch::make validates shapes", "[data][seq2seq_batch][errors]") {
  auto src = torch::ones({2, 4}, torch::kLong);
  REQUIRE_THROWS_WITH(Seq2SeqBatch::make(src, torch::ones({2, 1}, torch::kLong), 0),
                      Catch::Contains("Seq2SeqBatch: expected src [B, T_src] and tgt [B, T_tgt >= 2] with the same B, "
                                      "got [2, 4] and [2, 1]"));
  REQUIRE_THROWS_WITH(Seq2SeqBatch::make(src, torch::ones({3, 4}, torch::kLong), 0),
                      Catch::Contains("got [2, 4] and [3, 4]"));
}
