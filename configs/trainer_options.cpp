#include "torchzoo/configs/trainer_options.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "torchzoo/train/autocast.h"
#include "torchzoo/train/device.h"
#include "torchzoo/train/gemm_ceiling.h"

namespace torchzoo::configs {
namespace {

constexpr int64_t kMaxSeed = std::numeric_limits<int64_t>::max();

/// train.grad_scaler: dynamic loss scaling, on by default with fp16 autocast (as fp16 needs it).
train::GradScalerOptions read_grad_scaler(const Section& train, bool fp16) {
  train::GradScalerOptions o;
  o.enabled(fp16);
  auto section = train.optional_section("grad_scaler");
  if (!section) return o;
  o.enabled(section->get<bool>("enabled", o.enabled()))
      .init_scale(section->get_in_range<double>("init_scale", o.init_scale(), 1e-30, 1e30))
      .growth_factor(section->get_in_range<double>("growth_factor", o.growth_factor(), 1.000001, 1e6))
      .backoff_factor(section->get_in_range<double>("backoff_factor", o.backoff_factor(), 1e-6, 0.999999))
      .growth_interval(section->get_in_range<int64_t>("growth_interval", o.growth_interval(), 1, kMaxSeed));
  section->finish();
  return o;
}

}  // namespace

train::AutocastChoice read_autocast(const Config& config, torch::Device device, const std::string& flag) {
  std::string setting = flag;
  if (auto train = config.root().optional_section("train")) {
    const auto configured = train->get_choice("autocast", "auto", {"auto", "none", "bf16", "fp16"});
    if (setting.empty()) setting = configured;
  }
  if (setting.empty()) setting = "auto";
  return train::choose_autocast(setting, device, flag.empty() ? "train.autocast" : "--autocast");
}

train::LinearKernelChoice read_linear_kernel(const Config& config, torch::Device device,
                                             std::optional<c10::ScalarType> autocast) {
  std::string setting = "auto";
  auto train = config.root().optional_section("train");
  if (train) setting = train->get_choice("linear_kernel", setting, {"auto", "blas", "onednn"});
  try {
    return train::choose_linear_kernel(setting, device, autocast);
  } catch (const c10::Error& error) {
    if (train) train->fail("linear_kernel", error.what_without_backtrace());
    throw;
  }
}

namespace {

DistributedConfig read_distributed(const Section& section) {
  DistributedConfig d;
  auto& process = d.process_group;
  process.backend(section.get_choice("backend", process.backend(), {"auto", "gloo", "nccl"}));
  const auto seconds = [](double s) {
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(s * 1000.0)));
  };
  const auto timeout_s = std::chrono::duration<double>(process.timeout()).count();
  const auto init_timeout_s = std::chrono::duration<double>(process.init_timeout()).count();
  process.timeout(seconds(section.get_in_range<double>("timeout_s", timeout_s, 0.1, 1e7)))
      .init_timeout(seconds(section.get_in_range<double>("init_timeout_s", init_timeout_s, 0.1, 1e7)));
  auto& parallel = d.data_parallel;
  parallel.bucket_cap_mb(section.get_in_range<double>("bucket_cap_mb", parallel.bucket_cap_mb(), 0.001, 1e5))
      .first_bucket_cap_mb(
          section.get_in_range<double>("first_bucket_cap_mb", parallel.first_bucket_cap_mb(), 0.001, 1e5))
      .find_unused_parameters(section.get<bool>("find_unused_parameters", parallel.find_unused_parameters()));
  section.finish();
  return d;
}

}  // namespace

DistributedConfig read_distributed_config(const Config& config) {
  if (auto train = config.root().optional_section("train")) {
    if (auto section = train->optional_section("distributed")) return read_distributed(*section);
  }
  return {};
}

RunOptions read_run_options(const Config& config) {
  RunOptions o;
  if (auto train = config.root().optional_section("train")) {
    o.seed(static_cast<uint64_t>(train->get_in_range<int64_t>("seed", static_cast<int64_t>(o.seed()), 0, kMaxSeed)))
        .threads(train->get_in_range<int64_t>("threads", o.threads(), 0, 1024))
        .tensorboard(train->get<bool>("tensorboard", o.tensorboard()));
  }
  return o;
}

train::TrainerOptions read_trainer_options(const Config& config, const std::string& default_out_dir) {
  auto train = config.section("train");
  read_run_options(config);  // marks seed and threads as read
  torch::Device device = torch::kCPU;
  try {
    device = train::select_device(train.get("device", "auto"));
  } catch (const c10::Error& error) {
    train.fail("device", error.what_without_backtrace());
  }
  train::TrainerOptions o;
  const auto autocast = read_autocast(config, device);
  o.epochs(train.get_positive<int64_t>("epochs", o.epochs()))
      .accum_steps(train.get_positive<int64_t>("accum_steps", o.accum_steps()))
      .clip_grad_norm(train.get_in_range<double>("clip_grad_norm", o.clip_grad_norm(), 0.0, 1e9))
      .log_every(train.get_in_range<int64_t>("log_every", o.log_every(), 0, kMaxSeed))
      .report_mfu(train.get<bool>("mfu", o.report_mfu()))
      .profile_step(train.get_in_range<int64_t>("profile_step", o.profile_step(), 0, kMaxSeed))
      .max_steps(train.get_in_range<int64_t>("max_steps", o.max_steps(), 0, kMaxSeed))
      .out_dir(train.get("out_dir", default_out_dir))
      .config_text(config.to_yaml())
      .device(device)
      .autocast(autocast.dtype)
      .linear_kernel(read_linear_kernel(config, device, autocast.dtype).kernel)
      .grad_scaler(read_grad_scaler(train, autocast.dtype == torch::kHalf))
      .ema_decay(train.get_in_range<double>("ema_decay", o.ema_decay(), 0.0, 0.999999999))
      .ema_warmup(train.get<bool>("ema_warmup", o.ema_warmup()))
      .skip_nonfinite(train.get_choice("on_nonfinite", o.skip_nonfinite() ? "skip" : "stop", {"stop", "skip"}) ==
                      "skip")
      .keep_best(train.get("keep_best", o.keep_best()))
      .keep_best_max(train.get_choice("keep_best_mode", o.keep_best_max() ? "max" : "min", {"max", "min"}) == "max")
      .eval_every(train.get_in_range<int64_t>("eval_every", o.eval_every(), 0, kMaxSeed))
      .patience(train.get_in_range<int64_t>("patience", o.patience(), 0, kMaxSeed))
      .average_last(train.get_in_range<int64_t>("average_last", o.average_last(), 0, 1000));
  // save_every: N (optimizer steps) or {steps: N, minutes: M}, either or both.
  if (train.is_map("save_every")) {
    auto every = train.section("save_every");
    o.save_every_steps(every.get_in_range<int64_t>("steps", 0, 0, kMaxSeed))
        .save_every_minutes(every.get_in_range<double>("minutes", 0.0, 0.0, 1e9));
    every.finish();
  } else {
    o.save_every_steps(train.get_in_range<int64_t>("save_every", 0, 0, kMaxSeed));
  }
  o.data_parallel(read_distributed_config(config).data_parallel);
  if (o.out_dir().empty()) {
    train.fail("out_dir", "expected a folder for checkpoints and metrics, got ''; leave the key out for "
                          "runs/<config name>");
  }
  if (o.patience() > 0 && o.keep_best().empty()) {
    train.fail("patience", "early stopping watches the keep_best metric: set train.keep_best (e.g. bleu)");
  }
  train.finish();
  return o;
}

}  // namespace torchzoo::configs
