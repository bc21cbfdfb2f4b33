#include "torchzoo/train/export/safetensors.h"

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <system_error>

#include "torchzoo/common/atomic_write.h"
#include "torchzoo/common/check.h"

// The format stores little-endian bytes and we copy tensor memory as it is.
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "torchzoo's safetensors reader and writer assume a little-endian machine"
#endif

namespace torchzoo::train {
namespace {

using json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";
// The Python library refuses longer headers (a guard against absurd allocations); so do we.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Lists of names in errors stop after this many.
constexpr size_t kMaxListed = 12;

struct DtypeName {
  torch::ScalarType dtype;
  const char* name;
};
constexpr std::array<DtypeName, 10> kDtypes = {{{torch::kFloat64, "F64"},
                                                {torch::kFloat32, "F32"},
                                                {torch::kFloat16, "F16"},
                                                {torch::kBFloat16, "BF16"},
                                                {torch::kInt64, "I64"},
                                                {torch::kInt32, "I32"},
                                                {torch::kInt16, "I16"},
                                                {torch::kInt8, "I8"},
                                                {torch::kUInt8, "U8"},
                                                {torch::kBool, "BOOL"}}};

std::string supported_dtype_names() {
  std::vector<std::string> names;
  for (const auto& d : kDtypes) names.emplace_back(d.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

const char* dtype_name_or_null(torch::ScalarType dtype) {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.name;
  }
  return nullptr;
}

/// "F32" for the dtypes the format has, torch's name for the others.
std::string dtype_label(torch::ScalarType dtype) {
  const char* name = dtype_name_or_null(dtype);
  return name != nullptr ? name : c10::toString(dtype);
}

std::optional<torch::ScalarType> dtype_from_name(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.dtype;
  }
  return std::nullopt;
}

/// "'a', 'b', 'c' and 9 more" for error messages.
std::string list_names(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (size_t i = 0; i < names.size() && i < kMaxListed; ++i) quoted.push_back("'" + names[i] + "'");
  std::string text = fmt::format("{}", fmt::join(quoted, ", "));
  if (names.size() > kMaxListed) text += fmt::format(" and {} more", names.size() - kMaxListed);
  return text;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  TORCHZOO_CHECK(false, "safetensors file '{}': {}", path, what);
}

[[noreturn]] void fail_key(const std::string& path, const std::string& key, const std::string& what) {
  fail(path, fmt::format("tensor '{}': {}", key, what));
}

// ---------------------------------------------------------------------------------------------------------------
// writing

void write_bytes(std::ostream& out, const void* data, size_t size) {
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// ---------------------------------------------------------------------------------------------------------------
// reading

/// One header entry, checked against itself (not yet against the other entries or the file size).
struct HeaderEntry {
  std::string name;
  torch::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

/// Finds keys that occur twice in one JSON object, which nlohmann::json would silently
/// collapse to the last value: a file with two tensors of one name is ambiguous.
class DuplicateKeyFinder {
 public:
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        objects_.push_back({});
        break;
      case json::parse_event_t::object_end:
        objects_.pop_back();
        break;
      case json::parse_event_t::key: {
        const std::string key = parsed.get<std::string>();
        auto& object = objects_.back();
        if (!object.keys.insert(key).second && !duplicate_) {
          duplicate_ = key;
          // The object holding it: a tensor entry when we are one level down.
          if (objects_.size() >= 2) parent_ = objects_[objects_.size() - 2].last_key;
        }
        object.last_key = key;
        break;
      }
      default:
        break;
    }
    return true;
  }

  const std::optional<std::string>& duplicate() const { return duplicate_; }
  const std::string& parent() const { return parent_; }

 private:
  struct Object {
    std::set<std::string> keys;
    std::string last_key;
  };
  std::vector<Object> objects_;
  std::optional<std::string> duplicate_;
  std::string parent_;
};

json parse_header(const std::string& path, const std::string& text) {
  // The callback is copied into the parser: it reports through shared state.
  auto finder = std::make_shared<DuplicateKeyFinder>();
  json header;
  try {
    header = json::parse(
        text, [finder](int depth, json::parse_event_t event, json& parsed) { return (*finder)(depth, event, parsed); });
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number past double's range
    fail(path, fmt::format("the header is not valid JSON: {}", e.what()));
  }
  if (const auto& key = finder->duplicate()) {
    if (finder->parent().empty()) fail_key(path, *key, "appears twice in the header; expected unique names");
    fail_key(path, finder->parent(), fmt::format("field '{}' appears twice; expected each field once", *key));
  }
  if (!header.is_object()) {
    fail(path, fmt::format("the header is a JSON {}; expected an object of tensor entries", header.type_name()));
  }
  return header;
}

uint64_t read_offset(const std::string& path, const std::string& key, const json& value) {
  if (!value.is_number_unsigned()) {
    fail_key(path, key, fmt::format("data_offsets holds {}; expected non-negative integers", value.dump()));
  }
  return value.get<uint64_t>();
}

HeaderEntry parse_entry(const std::string& path, const std::string& key, const json& value) {
  if (!value.is_object()) {
    fail_key(
        path, key,
        fmt::format("the entry is a JSON {}; expected {{\"dtype\", \"shape\", \"data_offsets\"}}", value.type_name()));
  }
  for (const auto& [field, _] : value.items()) {
    if (field != "dtype" && field != "shape" && field != "data_offsets") {
      fail_key(path, key, fmt::format("unknown field '{}'; expected dtype, shape and data_offsets", field));
    }
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!value.contains(field))
      fail_key(path, key, fmt::format("no '{}'; expected dtype, shape and data_offsets", field));
  }
  HeaderEntry entry;
  entry.name = key;

  const json& dtype = value.at("dtype");
  if (!dtype.is_string()) fail_key(path, key, fmt::format("dtype is {}; expected a string", dtype.dump()));
  const auto parsed_dtype = dtype_from_name(dtype.get<std::string>());
  if (!parsed_dtype) {
    fail_key(path, key,
             fmt::format("unknown dtype '{}'; expected one of {}", dtype.get<std::string>(), supported_dtype_names()));
  }
  entry.dtype = *parsed_dtype;

  const json& shape = value.at("shape");
  if (!shape.is_array()) fail_key(path, key, fmt::format("shape is {}; expected a list of sizes", shape.dump()));
  for (const auto& size : shape) {
    // Sizes beyond int64 cannot be torch sizes (and would not fit any file).
    if (!size.is_number_unsigned() || size.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      fail_key(path, key, fmt::format("shape is {}; expected non-negative integer sizes", shape.dump()));
    }
    entry.shape.push_back(size.get<int64_t>());
  }

  const json& offsets = value.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2) {
    fail_key(path, key, fmt::format("data_offsets is {}; expected [begin, end]", offsets.dump()));
  }
  entry.begin = read_offset(path, key, offsets[0]);
  entry.end = read_offset(path, key, offsets[1]);
  if (entry.end < entry.begin) {
    fail_key(path, key, fmt::format("data_offsets [{}, {}] end before they begin", entry.begin, entry.end));
  }

  // numel * element size, refusing sizes whose product overflows (no file is that large).
  uint64_t bytes = torch::elementSize(entry.dtype);
  for (int64_t size : entry.shape) {
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(size), &bytes)) {
      fail_key(path, key, fmt::format("shape {} is too large for any file", shape.dump()));
    }
  }
  if (entry.end - entry.begin != bytes) {
    fail_key(path, key,
             fmt::format("{} shape {} needs {} bytes, but data_offsets [{}, {}] span {}", dtype.get<std::string>(),
                         shape.dump(), bytes, entry.begin, entry.end, entry.end - entry.begin));
  }
  return entry;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& value) {
  if (!value.is_object()) {
    fail(path, fmt::format("__metadata__ is a JSON {}; expected an object of strings", value.type_name()));
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail(path, fmt::format("__metadata__ '{}' is {}; expected a string", key, item.dump()));
    }
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

/// Checks that the entries, sorted by offset, lie inside the data and cover it with no
/// gap or overlap (the format's rule: no bytes that belong to no tensor, so no hidden payload).
void check_layout(const std::string& path, std::vector<HeaderEntry>& entries, uint64_t data_size) {
  for (const auto& e : entries) {
    if (e.end > data_size) {
      fail_key(path, e.name,
               fmt::format("data_offsets [{}, {}] reach beyond the data, which holds {} bytes (is the file truncated?)",
                           e.begin, e.end, data_size));
    }
  }
  std::stable_sort(entries.begin(), entries.end(), [](const HeaderEntry& a, const HeaderEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;  // data bytes [0, covered) belong to the entries so far
  const HeaderEntry* previous = nullptr;
  for (const auto& e : entries) {
    if (e.begin < covered) {
      fail_key(path, e.name,
               fmt::format("data_offsets [{}, {}] overlap those of '{}' [{}, {}]; expected disjoint ranges", e.begin,
                           e.end, previous->name, previous->begin, previous->end));
    }
    if (e.begin > covered) {
      fail_key(path, e.name,
               fmt::format("data_offsets [{}, {}] leave bytes [{}, {}) that belong to no tensor; expected none",
                           e.begin, e.end, covered, e.begin));
    }
    covered = e.end;
    previous = &e;
  }
  if (covered != data_size) {
    fail(path, fmt::format("the data holds {} bytes, but the tensors cover only [0, {}); expected all of it", data_size,
                           covered));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

std::string safetensors_dtype_name(torch::ScalarType dtype) {
  const char* name = dtype_name_or_null(dtype);
  TORCHZOO_CHECK(name != nullptr, "safetensors: dtype {} is not supported; expected one of {}", c10::toString(dtype),
                 supported_dtype_names());
  return name;
}

const torch::Tensor& SafetensorsContents::at(const std::string& name) const {
  for (const auto& [key, tensor] : tensors) {
    if (key == name) return tensor;
  }
  std::vector<std::string> names;
  for (const auto& item : tensors) names.push_back(item.first);
  TORCHZOO_CHECK(false, "safetensors: no tensor '{}'; the file holds {}", name, list_names(names));
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Contiguous CPU copies; the largest elements first, so that every tensor starts at a
  // multiple of its element size (the header ends on a multiple of 8), as the Python library lays them out.
  std::vector<std::pair<std::string, torch::Tensor>> items;
  std::set<std::string> names;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty()) fail(path, "a tensor has an empty name; expected a non-empty one");
    if (name == kMetadataKey) fail_key(path, name, "the name is reserved for the metadata; expected another");
    if (!names.insert(name).second) fail_key(path, name, "appears twice; expected unique names");
    if (!tensor.defined()) fail_key(path, name, "is an undefined tensor; expected a tensor");
    if (dtype_name_or_null(tensor.scalar_type()) == nullptr) {
      fail_key(path, name,
               fmt::format("dtype {} is not supported; expected one of {}", c10::toString(tensor.scalar_type()),
                           supported_dtype_names()));
    }
    items.emplace_back(name, tensor.detach().to(torch::kCPU).contiguous());
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.second.element_size() > b.second.element_size(); });

  json header = json::object();
  if (!metadata.empty()) header[kMetadataKey] = json(metadata);
  uint64_t offset = 0;
  for (const auto& [name, tensor] : items) {
    const uint64_t bytes = tensor.numel() * tensor.element_size();
    json entry = json::object();
    entry["dtype"] = safetensors_dtype_name(tensor.scalar_type());
    entry["shape"] = tensor.sizes().vec();
    entry["data_offsets"] = json::array({offset, offset + bytes});
    header[name] = std::move(entry);
    offset += bytes;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  std::array<unsigned char, 8> length{};
  for (size_t i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>((header_text.size() >> (8 * i)) & 0xff);

  common::write_atomically(path, "safetensors file", [&](std::ostream& out) {
    write_bytes(out, length.data(), length.size());
    write_bytes(out, header_text.data(), header_text.size());
    for (const auto& [name, tensor] : items) {
      write_bytes(out, tensor.data_ptr(), tensor.numel() * tensor.element_size());
    }
  });
}

SafetensorsContents read_safetensors(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    fail(path, std::filesystem::exists(path, error) ? "not a regular file" : "no such file");
  }
  const uint64_t file_size = std::filesystem::file_size(path, error);
  if (error) fail(path, fmt::format("cannot read its size: {}", error.message()));
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));

  if (file_size < 8) {
    fail(path, fmt::format("the file holds {} bytes; expected at least 8 (the header length)", file_size));
  }
  std::array<unsigned char, 8> length{};
  in.read(reinterpret_cast<char*>(length.data()), 8);
  uint64_t header_size = 0;
  for (size_t i = 0; i < 8; ++i) header_size |= static_cast<uint64_t>(length[i]) << (8 * i);
  if (header_size > file_size - 8) {
    fail(path, fmt::format("the header length is {} bytes, but only {} follow it (is this a safetensors file?)",
                           header_size, file_size - 8));
  }
  if (header_size > kMaxHeaderBytes) {
    fail(path, fmt::format("the header length is {} bytes; expected at most {}", header_size, kMaxHeaderBytes));
  }
  std::string header_text(header_size, '\0');
  in.read(header_text.data(), static_cast<std::streamsize>(header_size));
  if (!in) fail(path, fmt::format("cannot read the header: {}", std::strerror(errno)));

  const json header = parse_header(path, header_text);
  SafetensorsContents contents;
  std::vector<HeaderEntry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey) {
      contents.metadata = parse_metadata(path, value);
    } else {
      entries.push_back(parse_entry(path, key, value));
    }
  }
  const uint64_t data_start = 8 + header_size;
  check_layout(path, entries, file_size - data_start);

  for (const auto& e : entries) {
    auto tensor = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
    in.seekg(static_cast<std::streamoff>(data_start + e.begin));
    in.read(static_cast<char*>(tensor.data_ptr()), static_cast<std::streamsize>(e.end - e.begin));
    if (!in) fail_key(path, e.name, fmt::format("cannot read its data: {}", std::strerror(errno)));
    if (e.dtype == torch::kBool) {
      // Bytes other than 0 and 1 are no bool at all; torch would give them undefined meaning.
      const auto* bytes = static_cast<const uint8_t*>(tensor.data_ptr());
      const auto bad = std::find_if(bytes, bytes + tensor.numel(), [](uint8_t b) { return b > 1; });
      if (bad != bytes + tensor.numel()) {
        fail_key(path, e.name,
                 fmt::format("BOOL element {} is the byte {}; expected 0 or 1", bad - bytes, static_cast<int>(*bad)));
      }
    }
    contents.tensors.emplace_back(e.name, std::move(tensor));
  }
  return contents;
}

NamedTensors module_state(const torch::nn::Module& module) {
  NamedTensors state;
  for (const auto& p : module.named_parameters()) state.emplace_back(p.key(), p.value().detach().to(torch::kCPU));
  for (const auto& b : module.named_buffers()) state.emplace_back(b.key(), b.value().detach().to(torch::kCPU));
  return state;
}

void save_safetensors(const torch::nn::Module& module, const std::string& path,
                      const std::map<std::string, std::string>& metadata) {
  write_safetensors(path, module_state(module), metadata);
}

LoadReport load_state(torch::nn::Module& module, const NamedTensors& state, const std::string& source) {
  NamedTensors targets;
  for (const auto& p : module.named_parameters()) targets.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers()) targets.emplace_back(b.key(), b.value());

  std::map<std::string, torch::Tensor> given;
  for (const auto& [name, tensor] : state) {
    TORCHZOO_CHECK(given.emplace(name, tensor).second, "{}: '{}' appears twice; expected unique names", source, name);
  }
  std::set<std::string> wanted;
  std::vector<std::string> missing;
  for (const auto& [name, _] : targets) {
    wanted.insert(name);
    if (given.count(name) == 0) missing.push_back(name);
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, _] : state) {
    if (wanted.count(name) == 0) unexpected.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::vector<std::string> parts;
    if (!missing.empty())
      parts.push_back(fmt::format("missing {} the model needs: {}", missing.size(), list_names(missing)));
    if (!unexpected.empty()) {
      parts.push_back(fmt::format("{} the model does not have: {}", unexpected.size(), list_names(unexpected)));
    }
    TORCHZOO_CHECK(false, "{} does not fit this model (expected exactly its {} parameter and buffer names): {}", source,
                   targets.size(), fmt::join(parts, "; "));
  }

  LoadReport report;
  std::vector<std::string> problems;
  for (const auto& [name, target] : targets) {
    const auto& value = given.at(name);
    if (value.sizes() != target.sizes()) {
      problems.push_back(fmt::format("'{}' has shape {}, the model expects {}", name, detail::shape_str(value.sizes()),
                                     detail::shape_str(target.sizes())));
    } else if (value.scalar_type() != target.scalar_type()) {
      const auto from = dtype_label(value.scalar_type());
      const auto to = dtype_label(target.scalar_type());
      if (value.is_floating_point() && target.is_floating_point()) {
        report.conversions.push_back(fmt::format("{}: {} -> {}", name, from, to));
      } else {
        problems.push_back(fmt::format("'{}' is {}, the model expects {}", name, from, to));
      }
    }
  }
  if (!problems.empty()) {
    std::vector<std::string> shown(problems.begin(), problems.begin() + std::min(problems.size(), kMaxListed));
    std::string more = problems.size() > kMaxListed ? fmt::format("; and {} more", problems.size() - kMaxListed) : "";
    TORCHZOO_CHECK(false, "{} does not fit this model: {}{}", source, fmt::join(shown, "; "), more);
  }

  // Names the model ties to one tensor must receive one value, or the copy would keep whichever came last.
  std::map<const void*, std::string> first_name;  // storage -> first name seen for it
  for (const auto& [name, target] : targets) {
    if (target.numel() == 0) continue;
    auto [it, inserted] = first_name.emplace(target.data_ptr(), name);
    if (inserted) continue;
    const auto& first = given.at(it->second);
    const auto& other = given.at(name);
    const auto a = first.to(torch::kCPU, target.scalar_type());
    const auto b = other.to(torch::kCPU, target.scalar_type());
    if (!torch::equal(a, b)) {
      const double diff = a.is_floating_point() ? (a - b).abs().max().item<double>() : 0.0;
      TORCHZOO_CHECK(false,
                     "{}: '{}' and '{}' are one tensor in this model (tied weights) but hold different values "
                     "(max abs difference {:.3g}); expected equal values, e.g. a clone of one tensor under both names",
                     source, it->second, name, diff);
    }
  }

  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) target.copy_(given.at(name));
  return report;
}

LoadReport load_safetensors(torch::nn::Module& module, const std::string& path) {
  auto contents = read_safetensors(path);
  auto report = load_state(module, contents.tensors, fmt::format("safetensors file '{}'", path));
  report.metadata = std::move(contents.metadata);
  return report;
}

void export_safetensors(const torch::nn::Module& model, const std::string& path, const std::string& model_name,
                        const std::string& config_yaml) {
  save_safetensors(model, path, {{"format", "pt"}, {kMetadataModel, model_name}, {kMetadataConfig, config_yaml}});
}

}  // namespace torchzoo::train
