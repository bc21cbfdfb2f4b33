#include "torchzoo/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/serialize.h>
#include <torch/serialize/archive.h>

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <system_error>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"

namespace torchzoo::train {
namespace {

constexpr int64_t kFormatVersion = 1;
constexpr const char* kChecksumsKey = "checksums";

/// CRC-32 (zlib's) of `bytes`.
int64_t crc32_of(const void* bytes, size_t size) {
  return static_cast<int64_t>(::crc32_z(0L, static_cast<const Bytef*>(bytes), size));
}

/// A CRC-32 for every tensor, integer, float and string in `archive` and the archives nested in
/// it, by path ("model/encoder.layers.0.linear.weight" -- the archive's own names, joined by '/').
void collect_checksums(torch::serialize::InputArchive& archive, const std::string& prefix,
                       std::map<std::string, int64_t>& sums) {
  for (const auto& key : archive.keys()) {
    if (prefix.empty() && key == kChecksumsKey) continue;
    const auto name = prefix + key;
    torch::Tensor tensor;
    if (archive.try_read(key, tensor)) {
      const auto bytes = tensor.detach().to(torch::kCPU).contiguous();
      sums[name] = crc32_of(bytes.data_ptr(), bytes.numel() * bytes.element_size());
      continue;
    }
    torch::serialize::InputArchive nested;
    if (archive.try_read(key, nested)) {
      collect_checksums(nested, name + "/", sums);
      continue;
    }
    c10::IValue value;
    if (!archive.try_read(key, value)) continue;
    if (value.isInt()) {
      const int64_t v = value.toInt();
      sums[name] = crc32_of(&v, sizeof v);
    } else if (value.isDouble()) {
      const double v = value.toDouble();
      sums[name] = crc32_of(&v, sizeof v);
    } else if (value.isString()) {
      const auto& v = value.toStringRef();
      sums[name] = crc32_of(v.data(), v.size());
    }
  }
}

/// Compares the checksums stored in `archive` with its content; a checkpoint written before
/// checksums were has none to compare.
void verify_checksums(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue stored;
  if (!archive.try_read(kChecksumsKey, stored)) return;
  TORCHZOO_CHECK(stored.isGenericDict(), "checkpoint '{}' is corrupted: its checksums are not a table", path);
  std::map<std::string, int64_t> expected;
  for (const auto& item : stored.toGenericDict()) {
    TORCHZOO_CHECK(item.key().isString() && item.value().isInt(),
                   "checkpoint '{}' is corrupted: its checksums are not a table of names and numbers", path);
    expected[item.key().toStringRef()] = item.value().toInt();
  }
  std::map<std::string, int64_t> actual;
  collect_checksums(archive, "", actual);
  for (const auto& [name, sum] : expected) {
    auto it = actual.find(name);
    TORCHZOO_CHECK(it != actual.end(), "checkpoint '{}' is corrupted: '{}' is missing", path, name);
    TORCHZOO_CHECK(it->second == sum,
                   "checkpoint '{}' is corrupted: '{}' does not match its checksum (CRC-32 {:08x} when written, "
                   "{:08x} now); the file was damaged after it was written",
                   path, name, static_cast<uint32_t>(sum), static_cast<uint32_t>(it->second));
  }
  for (const auto& [name, sum] : actual) {
    TORCHZOO_CHECK(expected.count(name) > 0, "checkpoint '{}' is corrupted: '{}' has no checksum", path, name);
  }
}

torch::serialize::InputArchive open_archive(const std::string& path, torch::Device device = torch::kCPU) {
  TORCHZOO_CHECK(std::filesystem::is_regular_file(path), "checkpoint '{}' does not exist or is not a file", path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, device);
  } catch (const c10::Error& e) {
    TORCHZOO_CHECK(false, "checkpoint '{}' is not a torchzoo checkpoint (cannot read it: {})", path,
                   e.what_without_backtrace());
  }
  c10::IValue version;
  TORCHZOO_CHECK(archive.try_read("torchzoo_checkpoint_version", version) && version.isInt(),
                 "checkpoint '{}' is not a torchzoo checkpoint (no torchzoo_checkpoint_version)", path);
  TORCHZOO_CHECK(version.toInt() == kFormatVersion, "checkpoint '{}' has format version {}, this build reads {}", path,
                 version.toInt(), kFormatVersion);
  try {
    verify_checksums(archive, path);
  } catch (const c10::Error& e) {
    TORCHZOO_CHECK(false, "{}", e.what_without_backtrace());
  }
  return archive;
}

CheckpointState read_state(torch::serialize::InputArchive& archive) {
  CheckpointState state;
  c10::IValue value;
  archive.read("step", value);
  state.step = value.toInt();
  archive.read("epoch", value);
  state.epoch = value.toInt();
  archive.read("config", value);
  state.config = value.toStringRef();
  if (archive.try_read("best", value)) {
    state.best = value.toDouble();
    archive.read("best_epoch", value);
    state.best_epoch = value.toInt();
  }
  // Written since evaluation within an epoch was added; older checkpoints stop at epoch ends.
  if (archive.try_read("batch", value)) state.batch = value.toInt();
  if (archive.try_read("best_step", value)) state.best_step = value.toInt();
  if (archive.try_read("evals_since_best", value)) state.evals_since_best = value.toInt();
  // Written since scheduled saves were added.
  if (archive.try_read("epoch_loss", value)) state.epoch_loss = value.toDouble();
  if (archive.try_read("epoch_items", value)) state.epoch_items = value.toInt();
  if (archive.try_read("window_loss", value)) state.window_loss = value.toDouble();
  if (archive.try_read("window_items", value)) state.window_items = value.toInt();
  torch::serialize::InputArchive optimizer;
  state.resumable = archive.try_read("optimizer", optimizer);
  return state;
}

/// The state of the default generator of `device` (taken under its lock).
torch::Tensor generator_state(c10::Device device) {
  auto generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_generator_state(c10::Device device, const torch::Tensor& state) {
  auto generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state.to(torch::kCPU));
}

}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointState& state, const std::vector<CheckpointPart>& parts) {
  torch::serialize::OutputArchive archive;
  archive.write("torchzoo_checkpoint_version", c10::IValue(kFormatVersion));
  archive.write("step", c10::IValue(state.step));
  archive.write("epoch", c10::IValue(state.epoch));
  archive.write("config", c10::IValue(state.config));
  if (state.best) {
    archive.write("best", c10::IValue(*state.best));
    archive.write("best_epoch", c10::IValue(state.best_epoch));
    archive.write("best_step", c10::IValue(state.best_step));
    archive.write("evals_since_best", c10::IValue(state.evals_since_best));
  }
  archive.write("batch", c10::IValue(state.batch));
  archive.write("epoch_loss", c10::IValue(state.epoch_loss));
  archive.write("epoch_items", c10::IValue(state.epoch_items));
  archive.write("window_loss", c10::IValue(state.window_loss));
  archive.write("window_items", c10::IValue(state.window_items));
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write("rng_state", generator_state(torch::kCPU));
    // One state per CUDA device, as torch.cuda.get_rng_state_all().
    const auto cuda_devices = static_cast<int64_t>(torch::cuda::device_count());
    archive.write("cuda_rng_devices", c10::IValue(cuda_devices));
    for (int64_t i = 0; i < cuda_devices; ++i) {
      archive.write(fmt::format("cuda_rng_state_{}", i),
                    generator_state(c10::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(i))));
    }
    for (const auto& part : parts) {
      torch::serialize::OutputArchive part_archive;
      part.save(part_archive);
      archive.write(part.name, part_archive);
    }
  }

  // The checksums are taken from the archive as it reads back, so they cover exactly what a load sees.
  std::ostringstream serialized;
  archive.save_to(serialized);
  const auto bytes = serialized.str();
  torch::serialize::InputArchive written;
  written.load_from(bytes.data(), bytes.size());
  std::map<std::string, int64_t> sums;
  collect_checksums(written, "", sums);
  c10::Dict<std::string, int64_t> table;
  for (const auto& [name, sum] : sums) table.insert(name, sum);
  archive.write(kChecksumsKey, c10::IValue(table));
  common::write_atomically(path, "checkpoint", [&](std::ostream& out) { archive.save_to(out); });
}

CheckpointState read_checkpoint_state(const std::string& path) {
  auto archive = open_archive(path);
  return read_state(archive);
}

CheckpointState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                                torch::Device device, const std::vector<CheckpointPart>& parts) {
  auto archive = open_archive(path, device);
  auto state = read_state(archive);
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  // Module::load replaces tensors whatever their shape, so shapes are compared afterwards.
  std::map<std::string, std::vector<int64_t>> expected_shapes;
  for (const auto& p : model.named_parameters()) expected_shapes[p.key()] = p.value().sizes().vec();
  for (const auto& b : model.named_buffers()) expected_shapes[b.key()] = b.value().sizes().vec();
  try {
    model.load(model_archive);
  } catch (const c10::Error& e) {
    TORCHZOO_CHECK(false, "checkpoint '{}' does not fit this model: {}", path, e.what_without_backtrace());
  }
  auto check_shape = [&](const std::string& name, const torch::Tensor& loaded) {
    const auto& expected = expected_shapes.at(name);
    TORCHZOO_CHECK(loaded.sizes().vec() == expected,
                   "checkpoint '{}' does not fit this model: '{}' has shape {} in the checkpoint, the model expects {}",
                   path, name, detail::shape_str(loaded.sizes()), detail::shape_str(expected));
  };
  for (const auto& p : model.named_parameters()) check_shape(p.key(), p.value());
  for (const auto& b : model.named_buffers()) check_shape(b.key(), b.value());
  for (const auto& p : model.named_parameters()) {
    TORCHZOO_CHECK(p.value().isfinite().all().item<bool>(),
                   "checkpoint '{}': the weights hold inf or NaN (in '{}'); it cannot be used", path, p.key());
  }
  if (optimizer != nullptr) {
    torch::serialize::InputArchive optimizer_archive;
    TORCHZOO_CHECK(archive.try_read("optimizer", optimizer_archive),
                   "checkpoint '{}' has no optimizer state (it holds weights only) and cannot be resumed", path);
    optimizer->load(optimizer_archive);
    torch::Tensor rng_state;
    archive.read("rng_state", rng_state);
    set_generator_state(torch::kCPU, rng_state);
    // Written since CUDA support; a checkpoint from a machine with more GPUs restores the ones here.
    c10::IValue cuda_devices;
    if (archive.try_read("cuda_rng_devices", cuda_devices)) {
      const auto here = static_cast<int64_t>(torch::cuda::device_count());
      for (int64_t i = 0; i < std::min(cuda_devices.toInt(), here); ++i) {
        torch::Tensor state;
        archive.read(fmt::format("cuda_rng_state_{}", i), state);
        set_generator_state(c10::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(i)), state);
      }
    }
    for (const auto& part : parts) {
      torch::serialize::InputArchive part_archive;
      TORCHZOO_CHECK(archive.try_read(part.name, part_archive),
                     "checkpoint '{}' has no '{}' state, which this run needs to resume (it was written by a run "
                     "configured without it)",
                     path, part.name);
      try {
        part.load(part_archive);
      } catch (const c10::Error& e) {
        TORCHZOO_CHECK(false, "checkpoint '{}': cannot restore its '{}' state: {}", path, part.name,
                       e.what_without_backtrace());
      }
    }
  }
  return state;
}

}  // namespace torchzoo::train
