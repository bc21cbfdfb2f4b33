// C++ half of torchzoo's ViT training benchmark: the same training steps as
// bench/vit_reference_bench.py (the timm-structured PyTorch ViT of
// tests/reference/vit_reference.py), built from torchzoo's modules, so that
// the two can be timed against each other.
//
//   VisionTransformer(img 28, patch 4, in_chans 1, 10 classes, embed 128, depth 6, 4 heads,
//                     mlp_ratio 2, qkv_bias, class-token pool, no dropout): the shape of
//                     configs/vit_fashion_mnist.yaml; train mode
//   AdamW(lr 1e-3, weight_decay 0.05), cross-entropy with label smoothing 0.1 (mean)
//   batch k: a generator seeded S * 1000003 + k draws images randn [B, 1, 28, 28], then
//            labels randint(0, 10) [B]
//   --autocast bf16: forward and loss under autocast (bfloat16), as torch.autocast
//   --device cuda: the model and batches on the GPU; the timer waits for the device
//
// Steps 0..W-1 are warm-up (run, not timed); steps W..W+N-1 are timed. A timed
// step covers forward, loss, backward, optimizer step and zero_grad, the span
// the Python script times; drawing the batch is not timed.
//
//   vit_bench --steps 20 --warmup-steps 3 --threads 2 --seed 1 --batch 128 --autocast none --json
//
// prints a JSON object with impl "cpp" (fused attention) or "cpp-math" (--fused 0);
// batch_checksum must equal the Python side's for the same seed and steps.
//
// Exit codes: 0 success, 1 runtime failure, 2 bad command line.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>

#include "bench_args.h"
#include "torchzoo/common/format.h"
#include "torchzoo/models/vision_transformer.h"
#include "torchzoo/train/autocast.h"
#include "torchzoo/train/malloc_tuning.h"

namespace {

using torchzoo::bench::json_number;

struct Args : torchzoo::bench::CommonArgs {
  int64_t batch = 128;
  std::string autocast = "none";
};

struct Result {
  int64_t images = 0;
  double seconds = 0.0;
  double final_loss = 0.0;
  double batch_checksum = 0.0;
};

Result run(const Args& args) {
  using namespace torchzoo;
  torch::set_num_threads(args.threads);
  torch::manual_seed(args.seed);
  models::VisionTransformer model(models::VisionTransformerOptions()
                                      .img_size(28)
                                      .patch_size(4)
                                      .in_chans(1)
                                      .num_classes(10)
                                      .embed_dim(128)
                                      .depth(6)
                                      .num_heads(4)
                                      .mlp_ratio(2.0)
                                      .qkv_bias(true)
                                      .fused_attention(args.fused != 0));
  const torch::Device device(args.device);
  model->to(device);
  model->train();
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0.05));
  const auto dtype = train::autocast_dtype_from_string(args.autocast);

  Result result;
  torch::Tensor last_loss;
  for (int64_t k = 0; k < args.warmup_steps + args.steps; ++k) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(args.seed * 1000003ULL + static_cast<uint64_t>(k));
    auto images = torch::randn({args.batch, 1, 28, 28}, generator);              // [B, 1, 28, 28]
    auto labels = torch::randint(0, 10, {args.batch}, generator, torch::kLong);  // [B]

    const auto on_device_images = images.to(device), on_device_labels = labels.to(device);

    torchzoo::bench::synchronize(device);
    const auto t0 = std::chrono::steady_clock::now();
    torch::Tensor loss;
    {
      train::AutocastGuard autocast(device, dtype);
      loss = torch::cross_entropy_loss(model(on_device_images), on_device_labels, {}, at::Reduction::Mean, -100, 0.1);
    }
    loss.backward();
    optimizer.step();
    optimizer.zero_grad(/*set_to_none=*/true);
    torchzoo::bench::synchronize(device);
    const auto t1 = std::chrono::steady_clock::now();

    if (k >= args.warmup_steps) {
      result.seconds += std::chrono::duration<double>(t1 - t0).count();
      result.images += args.batch;
      result.batch_checksum += images.sum().item<double>() + labels.sum().item<double>();
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
  CLI::App app{"ViT training benchmark (torchzoo C++)"};
  torchzoo::bench::add_common_options(app, args);
  app.add_option("--batch", args.batch, "images per step")->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option("--autocast", args.autocast, "none or bf16")->check(CLI::IsMember({"none", "bf16"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  const std::string impl = (args.fused ? "cpp" : "cpp-math") + torchzoo::bench::apply_linear_kernel(args);
  Result r;
  try {
    r = run(args);
  } catch (const std::exception& e) {
    std::cerr << "vit_bench: " << e.what() << "\n";
    return 1;
  }
  const double images_per_s = r.seconds > 0 ? static_cast<double>(r.images) / r.seconds : 0.0;
  if (args.json) {
    std::cout << fmt::format(
        "{{\"impl\": \"{}\", \"autocast\": \"{}\", \"steps\": {}, \"batch\": {}, \"images\": {}, \"seconds\": {}, "
        "\"images_per_s\": {}, \"final_loss\": {}, \"batch_checksum\": {}, \"warmup_steps\": {}, \"threads\": {}, "
        "\"seed\": {}, \"torch_version\": \"{}\"}}\n",
        impl, args.autocast, args.steps, args.batch, r.images, json_number(r.seconds), json_number(images_per_s),
        json_number(r.final_loss), json_number(r.batch_checksum), args.warmup_steps, args.threads, args.seed,
        TORCH_VERSION);
  } else {
    std::cout << fmt::format(
        "{} ({}): {} steps ({} warm-up), {} images in {:.3f}s = {:.1f} images/s, final loss "
        "{:.4f}, batch checksum {}\n",
        impl, args.autocast, args.steps, args.warmup_steps, r.images, r.seconds, images_per_s, r.final_loss,
        r.batch_checksum);
  }
  return 0;
}
