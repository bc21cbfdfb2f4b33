#pragma once
// Reading YAML configs: the only code in torchzoo that sees YAML. Builders read
// typed values from a Section and then call finish(), which rejects every key
// they did not ask for, so a typo fails loudly instead of silently using a default.
// Errors name where the value came from: `file:line:column` for keys written in
// the file (1-based), `--set key=value` for keys set on the command line.
// String values may name the data directory as `${data_dir}` (common/data_dir.h),
// e.g. `train: ${data_dir}/libreoffice-langid/train.tsv`; `$${` is a literal `${`.
//
// Example:
//   auto config = torchzoo::configs::Config::load("configs/copy_task.yaml");
//   config.apply_override("train.lr=3e-4");
//   auto model = config.section("model");
//   int64_t d_model = model.get_positive<int64_t>("d_model", 512);
//   double dropout = model.get_in_range("dropout", 0.1, 0.0, 1.0);
//   model.finish();  // model.d_modl → "...:12:3: model.d_modl: unknown key; allowed keys: d_model, dropout"
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace YAML {
class Node;
}  // namespace YAML

namespace torchzoo::configs {

/// The name among `names` closest to `word` by edit distance, if close enough to be a likely typo
/// (at most max(1, |word| / 3) edits): for "did you mean ...?" hints.
std::optional<std::string> closest_name(const std::string& word, const std::vector<std::string>& names);

/// A bad config: the message reads `location: dotted.key: what was wrong; what was expected`.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
struct ConfigState;

/// The value types a Section can read; any other T is a compile error.
template <class T>
inline constexpr bool kIsConfigValue =
    std::is_same_v<T, bool> || std::is_same_v<T, int64_t> || std::is_same_v<T, int> || std::is_same_v<T, double> ||
    std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<double>> ||
    std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<std::string>>;
}  // namespace detail

/// A view of one YAML map (the root or a nested map) at a dotted path such as `model.encoder`.
///
/// Every key asked for (by get, require, has, section, ...) is recorded, whether present or
/// not; finish() then rejects the keys present but never asked for. The record lives in the
/// config, shared by all views of the same path, so reading is const and copies agree.
/// An explicit YAML null (`key: null`, `key:`) counts as absent: it selects the default.
///
/// Example:
///   auto train = config.section("train");
///   double lr = train.require<double>("lr");
///   auto betas = train.get<std::vector<double>>("betas", {0.9, 0.98});
///   std::string decode = train.get_choice("decode", "greedy", {"greedy", "beam"});
///   train.finish();
class Section {
 public:
  /// The value at `key`, or `default_value` when the key is absent or null.
  template <class T>
  T get(const std::string& key, T default_value) const {
    static_assert(detail::kIsConfigValue<T>, "Section reads bool, int, int64_t, double, std::string and vectors");
    std::optional<T> value = read<T>(key, /*required=*/false);
    if (value) return std::move(*value);
    note_default(key, default_value);
    return default_value;
  }

  /// get<std::string> for a string-literal default, which would otherwise deduce T = const char*.
  std::string get(const std::string& key, const char* default_value) const {
    return get<std::string>(key, default_value);
  }

  /// The value at `key`; throws ConfigError when the key is absent or null.
  template <class T>
  T require(const std::string& key) const {
    static_assert(detail::kIsConfigValue<T>, "Section reads bool, int, int64_t, double, std::string and vectors");
    return *read<T>(key, /*required=*/true);
  }

  /// The value at `key`, or nullopt when the key is absent or null.
  template <class T>
  std::optional<T> get_optional(const std::string& key) const {
    static_assert(detail::kIsConfigValue<T>, "Section reads bool, int, int64_t, double, std::string and vectors");
    return read<T>(key, /*required=*/false);
  }

  /// Like get(), and the value (read or default) must be > 0.
  template <class T>
  T get_positive(const std::string& key, T default_value) const {
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "get_positive reads int, int64_t or double");
    T value = get<T>(key, default_value);
    if (!(value > 0)) fail_not_positive(key, static_cast<double>(value));
    return value;
  }

  /// Like get(), and the value (read or default) must lie in [min, max].
  template <class T>
  T get_in_range(const std::string& key, T default_value, T min, T max) const {
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "get_in_range reads int, int64_t or double");
    T value = get<T>(key, default_value);
    if (!(value >= min && value <= max)) fail_range(key, static_cast<double>(value), min, max);
    return value;
  }

  /// A string that must be one of `allowed`; `default_value` when absent or null.
  std::string get_choice(const std::string& key, const std::string& default_value,
                         const std::vector<std::string>& allowed) const;

  /// The nested map at `key`; throws ConfigError when it is absent, null or not a map.
  Section section(const std::string& key) const;
  /// The nested map at `key`, or nullopt when absent or null; throws when it is not a map.
  std::optional<Section> optional_section(const std::string& key) const;
  /// Whether `key` is present and not null; also marks `key` as known to finish().
  bool has(const std::string& key) const;
  /// Whether `key` holds a map (for keys that take a number or a map of details).
  bool is_map(const std::string& key) const;

  /// Throws ConfigError for the first key (in file order) that was never asked for, listing
  /// the keys that were (sorted). Call once all keys this section knows have been read.
  void finish() const;

  /// Throws ConfigError located at `key` (its value in the file, or the --set that made it),
  /// for checks a builder makes itself, e.g. fail("num_heads", "must divide d_model=512, got 7").
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  /// The dotted path of this map, e.g. "model.encoder"; empty for the root.
  const std::string& path() const { return path_; }
  /// The config's file name (or the name given to Config::parse).
  const std::string& file() const;

 private:
  friend class Config;
  Section(std::shared_ptr<detail::ConfigState> state, std::shared_ptr<const YAML::Node> node, std::string path);

  // Defined and instantiated for the kIsConfigValue types in config.cpp, so yaml-cpp stays out of this header.
  template <class T>
  std::optional<T> read(const std::string& key, bool required) const;
  /// Records that `key` took `value` by default (Config::resolved_yaml shows it).
  template <class T>
  void note_default(const std::string& key, const T& value) const;
  [[noreturn]] void fail_not_positive(const std::string& key, double value) const;
  [[noreturn]] void fail_range(const std::string& key, double value, double min, double max) const;
  std::string child_path(const std::string& key) const;

  std::shared_ptr<detail::ConfigState> state_;
  std::shared_ptr<const YAML::Node> node_;
  std::string path_;
  std::vector<std::string> keys_;  ///< path_ as keys from the root (a key may hold a dot)
};

/// A YAML config file with its command-line overrides applied.
///
/// Not copyable: Sections share its state (the tree, the --set record, the keys read).
/// Apply all overrides before reading: a Section may keep a handle on a map an override replaces.
///
/// Example:
///   auto config = Config::load(path);
///   for (const auto& assignment : set_flags) config.apply_override(assignment);
///   checkpoint.config_yaml = config.to_yaml();
class Config {
 public:
  /// Reads and parses a YAML file whose top level is a map (an empty file is an empty map).
  /// Throws ConfigError for an unreadable file, a syntax error, a duplicate key or a non-map top level.
  static Config load(const std::string& path);
  /// Parses YAML text; `name` stands for the file name in error messages (e.g. "checkpoint.pt:config").
  static Config parse(const std::string& text, const std::string& name);

  /// Movable, not copyable: Sections hold the state, so a copy could not be told apart from the original.
  Config(Config&&) noexcept = default;
  Config& operator=(Config&&) noexcept = default;
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;

  /// Applies `dotted.key=value`, the value parsed as YAML (`3e-4`, `beam`, `[0.9, 0.98]`, `{a: 1}`,
  /// `null`). Missing intermediate maps are created; later errors on these keys cite this --set.
  /// Throws ConfigError for a malformed assignment or a path that runs through a non-map value.
  void apply_override(const std::string& assignment);

  /// The effective config (file plus overrides) as YAML text, e.g. to store in a checkpoint.
  std::string to_yaml() const;

  /// to_yaml() with every default that the readers applied so far written in: each key a Section's
  /// get() found absent, with the value it returned (`torchzoo info --resolved`, a checkpoint's
  /// config_resolved). Read the config first (families::build_experiment reads all of it); keys
  /// never asked for are not shown.
  std::string resolved_yaml() const;

  /// Every leaf of the effective config by dotted key, its value as canonical YAML text, so that equal
  /// values compare equal however they were spelt: model.d_model → 512, optimizer.betas → [0.9, 0.98],
  /// data.name → "fashion_mnist" (strings quoted, whether they were or not; a quoted "512" stays a
  /// string), lists and maps in flow style. Empty maps are leaves ({}). For comparing two configs key
  /// by key (resuming a checkpoint).
  std::map<std::string, std::string> flatten() const;

  /// The top-level map.
  Section root() const;
  /// The required top-level map `key`; same as root().section(key).
  Section section(const std::string& key) const;
  /// Whether the top-level `key` is present and not null; same as root().has(key).
  bool has(const std::string& key) const;
  /// The file name (or the name given to parse()).
  const std::string& file() const;

 private:
  explicit Config(std::shared_ptr<detail::ConfigState> state);

  std::shared_ptr<detail::ConfigState> state_;
};

}  // namespace torchzoo::configs
