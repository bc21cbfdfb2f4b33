// C++ half of torchzoo's copy-task benchmark: the same training run as
// bench/copy_task_reference.py (the annotated Transformer's example_simple_model),
// built from torchzoo's modules, so that the two can be timed against each other.
//
//   EncoderDecoder(11, 11, num_layers 2; d_model 512, d_ff 2048, h 8, dropout 0.1), train mode
//   Adam(lr 0.5, betas (0.9, 0.98), eps 1e-9), Noam multiplier (512, factor 1, warmup 400)
//   LabelSmoothing(11, padding 0, smoothing 0); loss = criterion(...) / ntokens
//   batch 80, sequence length 10, batch k drawn from a generator seeded S * 1000003 + k
//
// Steps 0..W-1 are warm-up (run, not timed); steps W..W+N-1 are timed. A timed
// step covers forward, loss, backward, optimizer step, zero_grad and scheduler
// step, exactly the span the Python script times; drawing the batch and
// building its masks is not timed.
//
//   copy_task_bench --steps 20 --warmup-steps 2 --threads 1 --seed 0 --fused 1 --json
//
// prints the Python script's JSON object with impl "cpp" (fused attention) or
// "cpp-math" (--fused 0: the reference's matmul/softmax attention, the same
// math as the Python side). batch_checksum must equal the Python's for the same
// seed and steps: bench/run_copy_task.py checks it.
//
// Exit codes: 0 success, 1 runtime failure, 2 bad command line.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>

#include "bench_args.h"
#include "torchzoo/data/copy_task.h"
#include "torchzoo/common/format.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/fused_adam.h"
#include "torchzoo/train/label_smoothing.h"
#include "torchzoo/train/lr_schedule.h"
#include "torchzoo/train/malloc_tuning.h"

namespace {

using torchzoo::bench::json_number;

// The reference's constants (bench/copy_task_reference.py).
constexpr int64_t kVocab = 11;
constexpr int64_t kBatch = 80;
constexpr int64_t kSeqLen = 10;
constexpr int64_t kPad = 0;
constexpr int64_t kDModel = 512;
constexpr int64_t kWarmupLr = 400;

using Args = torchzoo::bench::CommonArgs;

struct Result {
  int64_t tokens = 0;
  double seconds = 0.0;
  double final_loss = 0.0;
  int64_t batch_checksum = 0;
};

Result run(const Args& args) {
  using namespace torchzoo;
  torch::set_num_threads(args.threads);
  torch::manual_seed(args.seed);

  models::EncoderDecoder model(
      models::EncoderDecoderOptions(kVocab, kVocab).num_layers(2).fused_attention(args.fused != 0));
  const torch::Device device(args.device);
  model->to(device);
  model->train();
  train::LabelSmoothing criterion(train::LabelSmoothingOptions(kVocab, kPad).smoothing(0.0));
  train::FusedAdam optimizer(model->parameters(), torch::optim::AdamOptions(0.5).betas({0.9, 0.98}).eps(1e-9));
  train::LRScheduler scheduler(optimizer, std::make_shared<train::NoamSchedule>(
                                              train::NoamScheduleOptions(kDModel).factor(1.0).warmup(kWarmupLr)));

  const int64_t total_steps = args.warmup_steps + args.steps;
  // train_batches = total steps, so batch(kTrain, 0, k) is seeded seed * 1000003 + k, like the Python side.
  data::CopyTask task(
      data::CopyTaskOptions().vocab(kVocab).seq_len(kSeqLen).batch_size(kBatch).pad(kPad).seed(args.seed).train_batches(
          total_steps));
  const auto weights = torch::arange(1, kSeqLen + 1, torch::kLong);  // [T]

  Result result;
  torch::Tensor last_loss;  // loss per token of the last timed step, read after the loop as the Python does
  for (int64_t k = 0; k < total_steps; ++k) {
    const bool timed = k >= args.warmup_steps;
    const auto batch = task.batch(data::Split::kTrain, /*epoch=*/0, /*index=*/k).to(device);

    torchzoo::bench::synchronize(device);
    const auto t0 = std::chrono::steady_clock::now();
    auto out = model->forward(batch.src, batch.tgt, batch.src_mask, batch.tgt_mask);  // [B, T - 1, d_model]
    auto loss = criterion(model->generator(out).reshape({-1, kVocab}), batch.tgt_y.reshape(-1)) /
                static_cast<double>(batch.ntokens);
    loss.backward();
    optimizer.step();
    optimizer.zero_grad(/*set_to_none=*/true);
    scheduler.step();
    torchzoo::bench::synchronize(device);
    const auto t1 = std::chrono::steady_clock::now();

    if (timed) {
      result.seconds += std::chrono::duration<double>(t1 - t0).count();
      result.tokens += batch.ntokens;
      result.batch_checksum += (batch.src.cpu() * weights).sum().item<int64_t>();
      last_loss = loss.detach();
    }
  }
  result.final_loss = last_loss.item<double>();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  torchzoo::train::tune_malloc_for_training();
  Args args;
  CLI::App app{"annotated-Transformer copy-task benchmark (torchzoo C++)"};
  torchzoo::bench::add_common_options(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    return code == 0 ? 0 : 2;
  }

  const std::string impl = (args.fused ? "cpp" : "cpp-math") + torchzoo::bench::apply_linear_kernel(args);
  Result r;
  try {
    r = run(args);
  } catch (const std::exception& e) {
    std::cerr << "copy_task_bench: " << e.what() << "\n";
    return 1;
  }
  const double tokens_per_s = r.seconds > 0 ? static_cast<double>(r.tokens) / r.seconds : 0.0;
  if (args.json) {
    std::cout << fmt::format(
        "{{\"impl\": \"{}\", \"steps\": {}, \"tokens\": {}, \"seconds\": {}, \"tokens_per_s\": {}, "
        "\"final_loss\": {}, \"batch_checksum\": {}, \"warmup_steps\": {}, \"threads\": {}, \"seed\": {}, "
        "\"torch_version\": \"{}\"}}\n",
        impl, args.steps, r.tokens, json_number(r.seconds), json_number(tokens_per_s), json_number(r.final_loss),
        r.batch_checksum, args.warmup_steps, args.threads, args.seed, TORCH_VERSION);
  } else {
    std::cout << fmt::format(
        "{}: {} steps ({} warm-up), {} tokens in {:.3f}s = {:.1f} tokens/s, final loss {:.4f}, batch checksum {}\n",
        impl, args.steps, args.warmup_steps, r.tokens, r.seconds, tokens_per_s, r.final_loss, r.batch_checksum);
  }
  return 0;
}
