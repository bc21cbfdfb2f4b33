#include "torchzoo/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/serialize.h>
#include <torch/serialize/archive.h>

#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string_view>
#include <system_error>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"

namespace torchzoo::train {
namespace {

constexpr int64_t kFormatVersion = 1;
constexpr const char* kChecksumsKey = "checksums";

/// The message of `e`, without LibTorch's backtrace.
std::string message_of(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e)) return error->what_without_backtrace();
  return e.what();
}

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

/// Whether zip member `name` holds a tensor's bytes ("archive/data/7"), which the checkpoint's
/// own checksums cover, by tensor name.
bool is_tensor_record(std::string_view name) {
  const auto at = name.find("/data/");
  if (at == std::string_view::npos || at + 6 == name.size()) return false;
  return name.find_first_not_of("0123456789", at + 6) == std::string_view::npos;
}

/// Reads every member of the zip archive at `path` but the tensor records through libzip,
/// which checks each against its CRC-32 and the central directory. LibTorch's reader checks
/// neither, and goes on to unpickle and compile the TorchScript code a checkpoint holds:
/// damage there cost minutes and gigabytes before anything failed (found by
/// fuzz/checkpoint_fuzzer.cpp), so it is caught here first.
void verify_zip_members(const std::string& path) {
  int code = 0;
  std::unique_ptr<zip_t, decltype(&zip_discard)> zip(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code),
                                                      &zip_discard);
  if (!zip) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string reason = zip_error_strerror(&error);
    zip_error_fini(&error);
    TORCHZOO_CHECK(false, "checkpoint '{}' is not a torchzoo checkpoint (not a readable zip archive: {})", path,
                   reason);
  }
  std::vector<char> buffer(1 << 16);
  const zip_int64_t members = zip_get_num_entries(zip.get(), 0);
  for (zip_int64_t i = 0; i < members; ++i) {
    const char* name = zip_get_name(zip.get(), static_cast<zip_uint64_t>(i), 0);
    if (name && is_tensor_record(name)) continue;
    const std::string member = name ? common::excerpt(name) : fmt::format("#{}", i);
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(zip_fopen_index(zip.get(), static_cast<zip_uint64_t>(i), 0),
                                                            &zip_fclose);
    TORCHZOO_CHECK(file != nullptr, "checkpoint '{}' is corrupted: its member '{}' cannot be read ({})", path, member,
                   zip_strerror(zip.get()));
    zip_int64_t got = 0;
    while ((got = zip_fread(file.get(), buffer.data(), buffer.size())) > 0) {
    }
    TORCHZOO_CHECK(got == 0, "checkpoint '{}' is corrupted: its member '{}' fails its zip check ({})", path, member,
                   zip_file_strerror(file.get()));
  }
}

torch::serialize::InputArchive open_archive(const std::string& path, torch::Device device = torch::kCPU) {
  TORCHZOO_CHECK(std::filesystem::is_regular_file(path), "checkpoint '{}' does not exist or is not a file", path);
  verify_zip_members(path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, device);
  } catch (const std::exception& e) {  // LibTorch's unpickler also throws std::out_of_range and others
    TORCHZOO_CHECK(false, "checkpoint '{}' is not a torchzoo checkpoint (cannot read it: {})", path, message_of(e));
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

/// The value stored under `key`, which must hold `expected` ("an integer", ...); `optional`
/// keys may be absent (then the result is None).
c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& key, const char* expected,
                       bool (c10::IValue::*holds)() const, bool optional = false) {
  c10::IValue value;
  if (!archive.try_read(key, value)) {
    TORCHZOO_CHECK(optional, "'{}' is missing", key);
    return value;
  }
  TORCHZOO_CHECK((value.*holds)(), "'{}' is {}, expected {}", key, value.tagKind(), expected);
  return value;
}

int64_t read_count(torch::serialize::InputArchive& archive, const std::string& key, bool optional = false) {
  auto value = read_value(archive, key, "an integer", &c10::IValue::isInt, optional);
  if (value.isNone()) return 0;
  TORCHZOO_CHECK(value.toInt() >= 0, "'{}' is {}, expected a count (0 or more)", key, value.toInt());
  return value.toInt();
}

double read_double(torch::serialize::InputArchive& archive, const std::string& key, bool optional = false) {
  auto value = read_value(archive, key, "a number", &c10::IValue::isDouble, optional);
  return value.isNone() ? 0.0 : value.toDouble();
}

/// Runs `body`, whose errors (LibTorch's included) come out naming the checkpoint.
template <class Body>
auto naming_checkpoint(const std::string& path, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    const auto message = message_of(e);
    if (message.find(path) != std::string::npos) throw;
    TORCHZOO_CHECK(false, "checkpoint '{}' cannot be used: {}", path, message);
  }
}

CheckpointState read_state(torch::serialize::InputArchive& archive) {
  CheckpointState state;
  state.step = read_count(archive, "step");
  state.epoch = read_count(archive, "epoch");
  state.config = read_value(archive, "config", "a string", &c10::IValue::isString).toStringRef();
  // Written since `torchzoo info --resolved`.
  const auto resolved = read_value(archive, "config_resolved", "a string", &c10::IValue::isString, /*optional=*/true);
  if (!resolved.isNone()) state.resolved_config = resolved.toStringRef();
  const auto best = read_value(archive, "best", "a number", &c10::IValue::isDouble, /*optional=*/true);
  if (!best.isNone()) {
    state.best = best.toDouble();
    state.best_epoch = read_count(archive, "best_epoch");
  }
  // Written since evaluation within an epoch was added; older checkpoints stop at epoch ends.
  state.batch = read_count(archive, "batch", /*optional=*/true);
  state.best_step = read_count(archive, "best_step", /*optional=*/true);
  state.evals_since_best = read_count(archive, "evals_since_best", /*optional=*/true);
  // Written since scheduled saves were added.
  state.epoch_loss = read_double(archive, "epoch_loss", /*optional=*/true);
  state.epoch_items = read_count(archive, "epoch_items", /*optional=*/true);
  state.window_loss = read_double(archive, "window_loss", /*optional=*/true);
  state.window_items = read_count(archive, "window_items", /*optional=*/true);
  torch::serialize::InputArchive optimizer;
  state.resumable = archive.try_read("optimizer", optimizer);
  return state;
}

}  // namespace

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

void save_checkpoint(const std::string& path, const torch::nn::Module& model, const torch::optim::Optimizer* optimizer,
                     const CheckpointState& state, const std::vector<CheckpointPart>& parts) {
  torch::serialize::OutputArchive archive;
  archive.write("torchzoo_checkpoint_version", c10::IValue(kFormatVersion));
  archive.write("step", c10::IValue(state.step));
  archive.write("epoch", c10::IValue(state.epoch));
  archive.write("config", c10::IValue(state.config));
  if (!state.resolved_config.empty()) archive.write("config_resolved", c10::IValue(state.resolved_config));
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
  return naming_checkpoint(path, [&] {
    auto archive = open_archive(path);
    return read_state(archive);
  });
}

namespace {

/// load_checkpoint's work; load_checkpoint makes sure its errors name the file.
CheckpointState load_into(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
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
      const bool present = archive.try_read(part.name, part_archive);
      if (!present && part.optional) {
        part.load_absent();
        continue;
      }
      TORCHZOO_CHECK(present,
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

}  // namespace

CheckpointState load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer* optimizer,
                                torch::Device device, const std::vector<CheckpointPart>& parts) {
  return naming_checkpoint(path, [&] { return load_into(path, model, optimizer, device, parts); });
}

}  // namespace torchzoo::train
