#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "torchzoo/data/copy_task.h"

using namespace torchzoo::data;

TEST_CASE("CopyTask batches are a function of the seed", "[data][copy_task]") {
  CopyTask task(CopyTaskOptions().vocab(11).seq_len(10).batch_size(16));
  auto a = task.batch(42);
  auto b = task.batch(42);
  CHECK(torch::equal(a.src, b.src));
  CHECK(torch::equal(a.tgt_y, b.tgt_y));
  CHECK_FALSE(torch::equal(task.sequences(42), task.sequences(43)));
  // The global RNG plays no part.
  torch::manual_seed(0);
  auto first = task.sequences(7);
  torch::randn({100});
  CHECK(torch::equal(task.sequences(7), first));
}

TEST_CASE("CopyTask sequences start with the start symbol and draw from 1 .. vocab - 1", "[data][copy_task]") {
  const int64_t start = GENERATE(1, 4);
  CopyTask task(CopyTaskOptions().vocab(7).seq_len(12).batch_size(64).start_symbol(start));
  auto rows = task.sequences(3);
  REQUIRE(rows.sizes() == torch::IntArrayRef({64, 12}));
  REQUIRE(rows.scalar_type() == torch::kLong);
  CHECK(rows.select(1, 0).eq(start).all().item<bool>());
  auto body = rows.narrow(1, 1, 11);
  CHECK(body.min().item<int64_t>() == 1);
  CHECK(body.max().item<int64_t>() == 6);  // 64 * 11 draws hit both ends
}

TEST_CASE("CopyTask batch copies the source into the target", "[data][copy_task]") {
  CopyTask task(CopyTaskOptions().vocab(11).seq_len(6).batch_size(4));
  auto rows = task.sequences(9);
  auto batch = task.batch(9);
  CHECK(torch::equal(batch.src, rows));
  CHECK(torch::equal(batch.tgt, rows.narrow(1, 0, 5)));
  CHECK(torch::equal(batch.tgt_y, rows.narrow(1, 1, 5)));
  CHECK(batch.ntokens == 4 * 5);  // no padding
  CHECK(batch.src_mask.all().item<bool>());
  CHECK(batch.tgt_mask.sizes() == torch::IntArrayRef({4, 5, 5}));
}

TEST_CASE("CopyTask validates its options", "[data][copy_task][errors]") {
  REQUIRE_THROWS_WITH(CopyTask(CopyTaskOptions().vocab(2)),
                      Catch::Contains("CopyTask: vocab must be >= 3 (pad, start and one symbol), got 2"));
  REQUIRE_THROWS_WITH(CopyTask(CopyTaskOptions().seq_len(1)), Catch::Contains("seq_len must be >= 2, got 1"));
  REQUIRE_THROWS_WITH(CopyTask(CopyTaskOptions().batch_size(0)), Catch::Contains("batch_size must be positive"));
  REQUIRE_THROWS_WITH(CopyTask(CopyTaskOptions().vocab(11).start_symbol(11)),
                      Catch::Contains("start_symbol must lie in [1, 11), got 11"));
  REQUIRE_THROWS_WITH(CopyTask(CopyTaskOptions().start_symbol(0)), Catch::Contains("got 0"));
}
