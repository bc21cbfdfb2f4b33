#include "torchzoo/configs/trainer_options.h"

#include <limits>

#include "torchzoo/train/autocast.h"
#include "torchzoo/train/device.h"

namespace torchzoo::configs {
namespace {

constexpr int64_t kMaxSeed = std::numeric_limits<int64_t>::max();

}  // namespace

RunOptions read_run_options(const Config& config) {
  RunOptions o;
  if (auto train = config.root().optional_section("train")) {
    o.seed(static_cast<uint64_t>(train->get_in_range<int64_t>("seed", static_cast<int64_t>(o.seed()), 0, kMaxSeed)))
        .threads(train->get_in_range<int64_t>("threads", o.threads(), 0, 1024));
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
  const auto autocast = train::autocast_dtype_name(o.autocast());
  o.epochs(train.get_positive<int64_t>("epochs", o.epochs()))
      .accum_steps(train.get_positive<int64_t>("accum_steps", o.accum_steps()))
      .clip_grad_norm(train.get_in_range<double>("clip_grad_norm", o.clip_grad_norm(), 0.0, 1e9))
      .log_every(train.get_in_range<int64_t>("log_every", o.log_every(), 0, kMaxSeed))
      .max_steps(train.get_in_range<int64_t>("max_steps", o.max_steps(), 0, kMaxSeed))
      .out_dir(train.get("out_dir", default_out_dir))
      .config_text(config.to_yaml())
      .device(device)
      .autocast(train::autocast_dtype_from_string(train.get_choice("autocast", autocast, {"none", "bf16", "fp16"})))
      .keep_best(train.get("keep_best", o.keep_best()))
      .keep_best_max(train.get_choice("keep_best_mode", o.keep_best_max() ? "max" : "min", {"max", "min"}) == "max")
      .eval_every(train.get_in_range<int64_t>("eval_every", o.eval_every(), 0, kMaxSeed))
      .patience(train.get_in_range<int64_t>("patience", o.patience(), 0, kMaxSeed))
      .average_last(train.get_in_range<int64_t>("average_last", o.average_last(), 0, 1000));
  if (o.patience() > 0 && o.keep_best().empty()) {
    train.fail("patience", "early stopping watches the keep_best metric: set train.keep_best (e.g. bleu)");
  }
  train.finish();
  return o;
}

}  // namespace torchzoo::configs
