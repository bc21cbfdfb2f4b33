#pragma once
// A name → builder table, one per kind (models, datasets, optimizers, schedulers).
// Registries are filled explicitly in one function under std::call_once, not by static
// self-registration, which the linker drops from static libraries. Once filled they are
// only read, so concurrent lookups are safe.
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "torchzoo/common/format.h"

namespace torchzoo::configs {

/// Maps names to builders of one kind; unknown and duplicate names throw std::invalid_argument.
///
/// Example:
///   using ModelBuilder = std::function<std::shared_ptr<Model>(const Section&)>;
///   Registry<ModelBuilder> models("model");
///   models.add("transformer", build_transformer, "encoder-decoder translation model");
///   auto model = models.get(config.section("model").require<std::string>("name"))(config.section("model"));
///   // models.get("foo") → "unknown model 'foo'; registered models: transformer, vit"
template <class Builder>
class Registry {
 public:
  /// `kind` names what is registered, singular ("model"), for error messages.
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  /// Registers `builder` under `name`; throws std::invalid_argument if `name` is empty or taken.
  void add(const std::string& name, Builder builder, std::string help = "") {
    if (name.empty()) throw std::invalid_argument(fmt::format("cannot register a {} with an empty name", kind_));
    auto [it, inserted] = entries_.emplace(name, Entry{std::move(builder), std::move(help)});
    if (!inserted) throw std::invalid_argument(fmt::format("duplicate {} '{}': it is already registered", kind_, name));
  }

  /// The builder registered as `name`; throws std::invalid_argument listing the registered names otherwise.
  const Builder& get(const std::string& name) const { return find(name).builder; }

  /// The help text given to add() for `name`; throws like get() for an unknown name.
  const std::string& help(const std::string& name) const { return find(name).help; }

  /// Whether `name` is registered.
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }

  /// The registered names, sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> result;
    result.reserve(entries_.size());
    for (const auto& entry : entries_) result.push_back(entry.first);
    return result;
  }

  /// The kind given to the constructor, e.g. "model".
  const std::string& kind() const { return kind_; }

 private:
  struct Entry {
    Builder builder;
    std::string help;
  };

  const Entry& find(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      throw std::invalid_argument(
          entries_.empty()
              ? fmt::format("unknown {} '{}'; no {}s are registered", kind_, common::excerpt(name), kind_)
              : fmt::format("unknown {} '{}'; registered {}s: {}", kind_, common::excerpt(name), kind_,
                            fmt::join(names(), ", ")));
    }
    return it->second;
  }

  std::string kind_;
  std::map<std::string, Entry> entries_;  // std::map keeps names() sorted
};

}  // namespace torchzoo::configs
