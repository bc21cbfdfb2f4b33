// C++ half of torchzoo's base-Transformer training benchmark: the same training
// steps as bench/transformer_base_reference.py (the annotated Transformer's
// make_model), built from torchzoo's modules, so that the two can be timed
// against each other on a GPU (bf16 autocast) or, with small sizes, on a CPU.
//
//   EncoderDecoder(src_vocab V, tgt_vocab V, untied; num_layers N, d_model 512, d_ff 2048, h 8,
//                  dropout 0.1), train mode: make_model(V, V, N, d_model, d_ff, h) by default
//   Adam(lr 3e-4, betas (0.9, 0.98), eps 1e-9; torchzoo's fused step), no schedule
//   LabelSmoothing(V, padding 0, smoothing 0.1) over the generator's log-probs; loss = sum / ntokens
//   --autocast bf16: forward and loss under autocast on the device, as torch.autocast(device_type, bfloat16)
//
// Batches are made on the CPU without any RNG, so that both languages build the
// very same ones: batch k (0-based from the start, warm-up included) holds
//
//   token(b, t) = 4 + (S * 1000003 + k * 7919 + b * 104729 + t * 31337) mod (V - 4)
//
// for src [B, src_len] and for tgt [B, tgt_len], whose position 0 is then the
// start symbol 1. Nothing is padding, so ntokens = B * (tgt_len - 1). On CUDA
// the batch is copied from pinned memory with non_blocking.
//
// Steps 0..W-1 are warm-up (run, not timed); steps W..W+N-1 are timed. A timed
// step covers forward, loss, backward, optimizer step and zero_grad, between two
// device synchronizations (CUDA runs asynchronously: without them the clock
// would stop while kernels are still queued); making and copying the batch is
// not timed.
//
//   transformer_base_bench --device cuda --autocast bf16 --batch 200 --steps 20 --warmup-steps 5 --json
//   transformer_base_bench --batch 4 --src-len 16 --tgt-len 16 --vocab 100 --layers 2 --d-model 64
//                          --d-ff 128 --heads 4 --steps 2 --warmup-steps 1 --threads 1 --json  (a CPU smoke test)
//
// prints a JSON object with impl "cpp" (fused attention) or "cpp-math" (--fused 0:
// the reference's matmul/softmax attention). batch_checksum (the sum over timed
// batches of each src batch's sum, in float64) must equal the Python side's for
// the same arguments: bench/run_transformer_base.py checks it.
//
// Exit codes: 0 success, 1 runtime failure, 2 bad command line.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "bench_args.h"
#include "torchzoo/common/format.h"
#include "torchzoo/data/seq2seq_batch.h"
#include "torchzoo/models/encoder_decoder.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/device.h"
#include "torchzoo/train/fused_adam.h"
#include "torchzoo/train/label_smoothing.h"
#include "torchzoo/train/malloc_tuning.h"

namespace {

using torchzoo::bench::json_number;
using torchzoo::bench::synchronize;

constexpr int64_t kPad = 0;
constexpr int64_t kStartSymbol = 1;
constexpr int64_t kFirstToken = 4;  // tokens 0..3 are the reference's specials (pad, start, end, unknown)
constexpr double kSmoothing = 0.1;
constexpr int64_t kMaxLen = 5000;  // the positional encoding's length (EncoderDecoderOptions::max_len)

struct Args : torchzoo::bench::CommonArgs {  // CommonArgs holds --device
  std::string autocast = "none";
  int64_t batch = 200;
  int64_t src_len = 128;
  int64_t tgt_len = 128;
  int64_t vocab = 32000;
  int64_t layers = 6;
  int64_t d_model = 512;
  int64_t d_ff = 2048;
  int64_t heads = 8;
};

struct Result {
  std::string device;
  int64_t tokens = 0;
  int64_t src_tokens = 0;
  double seconds = 0.0;
  double step_ms_median = 0.0;
  double final_loss = 0.0;
  int64_t parameters = 0;
  double batch_checksum = 0.0;
};

/// [rows, cols] int64: token(b, t) of batch k (the formula in the header comment). Each term is reduced
/// mod V - 4 before it is added, so that no int64 overflows for any seed; the Python side, with
/// unbounded integers, computes the same residues.
torch::Tensor batch_tokens(uint64_t seed, int64_t k, int64_t rows, int64_t cols, int64_t vocab) {
  const auto m = static_cast<uint64_t>(vocab - kFirstToken);  // < 2^31 (checked on the command line)
  const uint64_t base = ((seed % m) * (1000003 % m) + (static_cast<uint64_t>(k) % m) * (7919 % m)) % m;
  const auto b = torch::arange(rows, torch::kLong).mul(104729).unsqueeze(1);  // [rows, 1]
  const auto t = torch::arange(cols, torch::kLong).mul(31337).unsqueeze(0);   // [1, cols]
  return (b + t + static_cast<int64_t>(base)).remainder(static_cast<int64_t>(m)) + kFirstToken;  // [rows, cols]
}

/// On CUDA: through pinned memory, without waiting for the copy (the step's stream orders it).
torch::Tensor to_device(const torch::Tensor& t, torch::Device device) {
  if (!device.is_cuda()) return t;
  return t.contiguous().pin_memory().to(device, /*non_blocking=*/true);
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  const size_t n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : 0.5 * (xs[n / 2 - 1] + xs[n / 2]);
}

Result run(const Args& args) {
  using namespace torchzoo;
  torch::set_num_threads(args.threads);
  torch::manual_seed(args.seed);
  const torch::Device device = train::select_device(args.device);
  const auto dtype = train::autocast_dtype_from_string(args.autocast);

  models::EncoderDecoder model(models::EncoderDecoderOptions(args.vocab, args.vocab)
                                   .num_layers(args.layers)
                                   .d_model(args.d_model)
                                   .d_ff(args.d_ff)
                                   .num_heads(args.heads)
                                   .dropout(0.1)
                                   .fused_attention(args.fused != 0));
  model->to(device);
  model->train();
  train::LabelSmoothing criterion(train::LabelSmoothingOptions(args.vocab, kPad).smoothing(kSmoothing));
  train::FusedAdam optimizer(model->parameters(), torch::optim::AdamOptions(3e-4).betas({0.9, 0.98}).eps(1e-9));

  Result result;
  result.device = device.str();
  for (const auto& p : model->parameters()) result.parameters += p.numel();

  std::vector<double> step_seconds;
  torch::Tensor last_loss;  // loss per token of the last timed step, read after the loop as the Python does
  for (int64_t k = 0; k < args.warmup_steps + args.steps; ++k) {
    const bool timed = k >= args.warmup_steps;
    const auto src = batch_tokens(args.seed, k, args.batch, args.src_len, args.vocab);  // [B, S]
    auto full_tgt = batch_tokens(args.seed, k, args.batch, args.tgt_len, args.vocab);   // [B, T]
    full_tgt.select(1, 0).fill_(kStartSymbol);
    const auto host = data::Seq2SeqBatch::make(src, full_tgt, kPad);  // tgt, tgt_y [B, T - 1]
    const auto src_d = to_device(host.src, device);
    const auto src_mask_d = to_device(host.src_mask, device);  // [B, 1, S]
    const auto tgt_d = to_device(host.tgt, device);
    const auto tgt_y_d = to_device(host.tgt_y, device);
    const auto tgt_mask_d = to_device(host.tgt_mask, device);  // [B, T - 1, T - 1]

    synchronize(device);
    const auto t0 = std::chrono::steady_clock::now();
    torch::Tensor loss;
    {
      train::AutocastGuard autocast(device, dtype);
      auto out = model->forward(src_d, tgt_d, src_mask_d, tgt_mask_d);  // [B, T - 1, d_model]
      auto log_probs = model->generator(out);                           // [B, T - 1, V]
      loss = criterion(log_probs.reshape({-1, args.vocab}), tgt_y_d.reshape(-1)) /
             static_cast<double>(host.ntokens);
    }
    loss.backward();
    optimizer.step();
    optimizer.zero_grad(/*set_to_none=*/true);
    synchronize(device);
    const auto t1 = std::chrono::steady_clock::now();

    if (timed) {
      const double dt = std::chrono::duration<double>(t1 - t0).count();
      step_seconds.push_back(dt);
      result.seconds += dt;
      result.tokens += host.ntokens;
      result.src_tokens += host.src.numel();
      result.batch_checksum += host.src.sum(torch::kDouble).item<double>();
      last_loss = loss.detach();
    }
  }
  result.final_loss = last_loss.item<double>();
  result.step_ms_median = 1e3 * median(step_seconds);
  return result;
}

/// "cpu", "cuda" or "cuda:N"; anything else is a command-line error (exit 2), not a runtime one.
CLI::Validator device_name() {
  return CLI::Validator(
      [](std::string& name) -> std::string {
        static const std::regex pattern("cpu|cuda(:[0-9]+)?");
        return std::regex_match(name, pattern) ? "" : "expected cpu, cuda or cuda:N, got " + name;
      },
      "cpu|cuda|cuda:N");
}

}  // namespace

int main(int argc, char** argv) {
  torchzoo::train::tune_malloc_for_training();
  Args args;
  CLI::App app{"base-Transformer training benchmark (torchzoo C++)"};
  torchzoo::bench::add_common_options(app, args);
  constexpr int64_t kMaxRows = int64_t{1} << 20;
  constexpr int64_t kMaxVocab = int64_t{1} << 31;
  app.get_option("--device")->check(device_name());  // the common option, held to the names this bench takes
  app.add_option("--autocast", args.autocast, "none or bf16")->check(CLI::IsMember({"none", "bf16"}));
  app.add_option("--batch", args.batch, "sentences per step")->check(CLI::Range(int64_t{1}, kMaxRows));
  app.add_option("--src-len", args.src_len, "source tokens per sentence")->check(CLI::Range(int64_t{1}, kMaxLen));
  app.add_option("--tgt-len", args.tgt_len, "target tokens per sentence, the start symbol included")
      ->check(CLI::Range(int64_t{2}, kMaxLen + 1));
  app.add_option("--vocab", args.vocab, "source and target vocabulary (each; tokens 0..3 are specials)")
      ->check(CLI::Range(int64_t{5}, kMaxVocab));
  app.add_option("--layers", args.layers, "encoder layers, and as many decoder layers")
      ->check(CLI::Range(int64_t{1}, int64_t{1024}));
  app.add_option("--d-model", args.d_model, "model width")->check(CLI::Range(int64_t{1}, int64_t{1} << 16));
  app.add_option("--d-ff", args.d_ff, "feed-forward width")->check(CLI::Range(int64_t{1}, int64_t{1} << 18));
  app.add_option("--heads", args.heads, "attention heads (must divide --d-model)")
      ->check(CLI::Range(int64_t{1}, int64_t{1024}));
  try {
    app.parse(argc, argv);
    if (args.d_model % args.heads != 0) {
      throw CLI::ValidationError("--heads", fmt::format("{} heads do not divide d_model {}", args.heads,
                                                        args.d_model));
    }
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    return code == 0 ? 0 : 2;
  }

  const std::string impl = (args.fused ? "cpp" : "cpp-math") + torchzoo::bench::apply_linear_kernel(args);
  Result r;
  try {
    r = run(args);
  } catch (const c10::Error& e) {  // what() would add a C++ backtrace to a message meant for the user
    std::cerr << "transformer_base_bench: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "transformer_base_bench: " << e.what() << "\n";
    return 1;
  }
  const double tokens_per_s = r.seconds > 0 ? static_cast<double>(r.tokens) / r.seconds : 0.0;
  if (args.json) {
    std::cout << fmt::format(
        "{{\"impl\": \"{}\", \"device\": \"{}\", \"autocast\": \"{}\", \"steps\": {}, \"warmup_steps\": {}, "
        "\"batch\": {}, \"src_len\": {}, \"tgt_len\": {}, \"vocab\": {}, \"layers\": {}, \"d_model\": {}, "
        "\"d_ff\": {}, \"heads\": {}, \"tokens\": {}, \"src_tokens\": {}, \"seconds\": {}, \"tokens_per_s\": {}, "
        "\"step_ms_median\": {}, \"final_loss\": {}, \"parameters\": {}, \"batch_checksum\": {}, "
        "\"torch_version\": \"{}\", \"threads\": {}, \"seed\": {}}}\n",
        impl, r.device, args.autocast, args.steps, args.warmup_steps, args.batch, args.src_len, args.tgt_len,
        args.vocab, args.layers, args.d_model, args.d_ff, args.heads, r.tokens, r.src_tokens,
        json_number(r.seconds), json_number(tokens_per_s), json_number(r.step_ms_median),
        json_number(r.final_loss), r.parameters, json_number(r.batch_checksum), TORCH_VERSION, args.threads,
        args.seed);
  } else {
    std::cout << fmt::format(
        "{} ({}, {}): {} steps ({} warm-up), {} tokens in {:.3f}s = {:.1f} tokens/s, median step {:.2f} ms, "
        "final loss {:.4f}, {} parameters, batch checksum {}\n",
        impl, r.device, args.autocast, args.steps, args.warmup_steps, r.tokens, r.seconds, tokens_per_s,
        r.step_ms_median, r.final_loss, r.parameters, r.batch_checksum);
  }
  return 0;
}
