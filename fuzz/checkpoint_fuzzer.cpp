// libFuzzer target: the checkpoint loader (train/checkpoint.h) on any bytes:
// read_checkpoint_state, then load_checkpoint into a model and its optimizer.
// Promised: the state and finite weights, or an error naming the file.
#include <torch/torch.h>

#include "checkpoint_model.h"
#include "fuzz_support.h"
#include "torchzoo/train/checkpoint.h"

using namespace torchzoo;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::CheckpointModel model;
  static auto optimizer = fuzz::checkpoint_optimizer(model);
  const auto path = fuzz::write_scratch("checkpoint.pt", fuzz::bytes(data, size));
  fuzz::expect_error_naming({path}, [&] {
    const auto state = train::read_checkpoint_state(path);
    if (state.step < 0 || state.epoch < 0) fuzz::finding("negative counters accepted");
  });
  fuzz::expect_error_naming({path}, [&] {
    train::load_checkpoint(path, *model, optimizer.get());
    for (const auto& p : model->parameters()) {
      if (!torch::isfinite(p).all().item<bool>()) fuzz::finding("non-finite weights loaded");
    }
  });
  return 0;
}
