#include "torchzoo/configs/config.h"

#include <c10/util/Exception.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "torchzoo/common/data_dir.h"
#include "torchzoo/common/format.h"
#include "torchzoo/common/utf8.h"

namespace torchzoo::configs {
namespace detail {

struct ConfigState {
  std::string file;
  YAML::Node root;
  // Dotted keys set or created by apply_override → "--set key=value", the location errors on them cite.
  std::map<std::string, std::string> overrides;
  // Dotted path of a map ("" for the root) → the keys asked for in it, which finish() accepts.
  std::map<std::string, std::set<std::string>> asked;
  // Keys (as the keys from the root) that took a default, and the default, in the order read.
  std::vector<std::pair<std::vector<std::string>, YAML::Node>> defaults;

  // `--set ...` when `dotted` or a map holding it came from an override, else file:line:col (1-based).
  std::string locate(const std::string& dotted, const YAML::Mark& mark) const {
    for (size_t end = dotted.size(); end > 0;) {
      auto it = overrides.find(dotted.substr(0, end));
      if (it != overrides.end()) return it->second;
      end = dotted.find_last_of(".[", end - 1);
      if (end == std::string::npos) break;
    }
    if (mark.is_null()) return file;
    return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
  }
};

}  // namespace detail

namespace {

using Locator = std::function<std::string(const std::string& dotted, const YAML::Mark& mark)>;

// Everything echoed is cut (common::excerpt): a 5 MB value or key must not become a 5 MB message.
[[noreturn]] void throw_error(const std::string& location, const std::string& dotted, const std::string& what) {
  const auto where = common::excerpt(location, 300);
  if (dotted.empty()) throw ConfigError(fmt::format("{}: {}", where, common::excerpt(what, 4000)));
  throw ConfigError(fmt::format("{}: {}: {}", where, common::excerpt(dotted), common::excerpt(what, 4000)));
}

[[noreturn]] void throw_at(const detail::ConfigState& state, const std::string& dotted, const YAML::Mark& mark,
                           const std::string& what) {
  throw_error(state.locate(dotted, mark), dotted, what);
}

std::string join_path(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

// Plain scalars may be numbers or bools; quoted ("512") or tagged (!!str 512) ones are strings. The parser
// tags plain scalars "?"; keys that apply_override creates have no tag and are plain too.
bool is_plain(const YAML::Node& node) { return node.Tag() == "?" || node.Tag().empty(); }

std::string describe(const YAML::Node& node) {
  if (node.IsNull()) return "null";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return fmt::format("a list of {} items", node.size());
  if (is_plain(node)) return fmt::format("'{}'", common::excerpt(node.Scalar()));
  return fmt::format("the quoted string \"{}\"", common::excerpt(node.Scalar()));
}

template <class T>
struct IsVector : std::false_type {};
template <class E>
struct IsVector<std::vector<E>> : std::true_type {};

template <class T>
std::string type_name() {
  if constexpr (std::is_same_v<T, bool>) {
    return "a bool (true or false)";
  } else if constexpr (std::is_integral_v<T>) {
    return "an integer";
  } else if constexpr (std::is_same_v<T, double>) {
    return "a number";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return "a string";
  } else {
    static_assert(IsVector<T>::value);
    using Element = typename T::value_type;
    if constexpr (std::is_same_v<Element, double>) {
      return "a list of numbers";
    } else if constexpr (std::is_same_v<Element, int64_t>) {
      return "a list of integers";
    } else {
      return "a list of strings";
    }
  }
}

/// Where and why `text` is not YAML's printable text (YAML 1.2, 5.1 and 5.2): bytes that are not
/// UTF-8, ASCII control characters other than tab and line ends, and a carriage return without
/// its line feed. yaml-cpp takes all three and writes them back differently, so a config would not
/// read back from to_yaml() (found by fuzz/config_fuzzer.cpp).
struct Unprintable {
  size_t offset;
  std::string what;
};

std::optional<Unprintable> find_unprintable(const std::string& text) {
  if (const auto bad = common::find_invalid_utf8(text); bad != std::string::npos) {
    return Unprintable{bad, fmt::format("not valid UTF-8 (byte 0x{:02x})", static_cast<uint8_t>(text[bad]))};
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) {
      return Unprintable{i, "a carriage return without a line feed after it"};
    }
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      return Unprintable{i, fmt::format("control character 0x{:02x}", c)};
    }
  }
  return std::nullopt;
}

// from_chars rejects a leading '+', which YAML allows.
std::string_view strip_plus(const std::string& text) {
  std::string_view view(text);
  if (view.size() > 1 && view[0] == '+' && view[1] != '-') view.remove_prefix(1);
  return view;
}

std::optional<bool> parse_bool(const std::string& text) {
  // YAML 1.2 core schema only: yaml-cpp would also take y/n/yes/no/on/off, which are easy to write by accident.
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

template <class T>
std::optional<T> parse_number(const std::string& text, bool* out_of_range) {
  if constexpr (std::is_same_v<T, double>) {
    // YAML spells infinities and NaN with a leading dot.
    static const std::map<std::string, double> kSpecial = {
        {".inf", std::numeric_limits<double>::infinity()},   {".Inf", std::numeric_limits<double>::infinity()},
        {".INF", std::numeric_limits<double>::infinity()},   {"+.inf", std::numeric_limits<double>::infinity()},
        {"-.inf", -std::numeric_limits<double>::infinity()}, {"-.Inf", -std::numeric_limits<double>::infinity()},
        {"-.INF", -std::numeric_limits<double>::infinity()}, {".nan", std::numeric_limits<double>::quiet_NaN()},
        {".NaN", std::numeric_limits<double>::quiet_NaN()},  {".NAN", std::numeric_limits<double>::quiet_NaN()}};
    if (auto it = kSpecial.find(text); it != kSpecial.end()) return it->second;
  }
  std::string_view view = strip_plus(text);
  T value{};
  auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  const bool whole = end == view.data() + view.size();
  // Out of range only when all of it is a number: "0.1e-494 0.98" is no number at all.
  if (ec == std::errc::result_out_of_range && whole) *out_of_range = true;
  if (ec != std::errc() || !whole) return std::nullopt;
  return value;
}

// A string value with its ${data_dir} replaced by common::data_dir(); `$${` writes a literal `${`.
std::string expand_variables(const detail::ConfigState& state, const YAML::Node& node, const std::string& dotted,
                             const std::string& text) {
  if (text.find("${") == std::string::npos) return text;
  std::string expanded;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {
      expanded += "${";
      i += 3;
    } else if (text.compare(i, 2, "${") == 0) {
      const size_t close = text.find('}', i + 2);
      if (close == std::string::npos) {
        throw_at(state, dotted, node.Mark(),
                 fmt::format("'{}' opens '${{' without a closing '}}'", common::excerpt(text)));
      }
      const std::string name = text.substr(i + 2, close - i - 2);
      if (name != "data_dir") {
        throw_at(
            state, dotted, node.Mark(),
            fmt::format("unknown variable '${{{}}}'; known: ${{data_dir}} (write $${{ for a literal '${{')",
                        common::excerpt(name)));
      }
      try {
        expanded += common::data_dir();
      } catch (const c10::Error& error) {
        throw_at(state, dotted, node.Mark(), error.what_without_backtrace());
      }
      i = close + 1;
    } else {
      expanded += text[i++];
    }
  }
  return expanded;
}

template <class T>
T decode(const detail::ConfigState& state, const YAML::Node& node, const std::string& dotted) {
  auto fail = [&](const std::string& expected) -> void {
    throw_at(state, dotted, node.Mark(), fmt::format("expected {}, got {}", expected, describe(node)));
  };
  if constexpr (IsVector<T>::value) {
    if (!node.IsSequence()) fail(type_name<T>());
    T values;
    values.reserve(node.size());
    for (size_t i = 0; i < node.size(); ++i) {
      values.push_back(decode<typename T::value_type>(state, node[i], fmt::format("{}[{}]", dotted, i)));
    }
    return values;
  } else {
    if (!node.IsScalar()) fail(type_name<T>());
    const std::string& text = node.Scalar();
    if constexpr (std::is_same_v<T, std::string>) {
      return expand_variables(state, node, dotted, text);
    } else if constexpr (std::is_same_v<T, bool>) {
      std::optional<bool> value = is_plain(node) ? parse_bool(text) : std::nullopt;
      if (!value) fail(type_name<T>());
      return *value;
    } else {
      bool out_of_range = false;
      std::optional<T> value = is_plain(node) ? parse_number<T>(text, &out_of_range) : std::nullopt;
      if (out_of_range) {
        if constexpr (std::is_integral_v<T>) {
          fail(fmt::format("an integer in [{}, {}]", std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
        } else {
          fail("a number within double range");
        }
      }
      if (!value) fail(type_name<T>());
      return *value;
    }
  }
}

// Bounds on a config's tree as its readers see it, aliases expanded: yaml-cpp shares an aliased
// node instead of copying it, but every walk (this check, to_yaml, finish) visits it once per
// reference, so nine nested aliases of nine items each ("billion laughs") would be 10^9 visits.
// The shipped configs have a few hundred nodes and nest 4 levels.
constexpr int64_t kMaxConfigNodes = 100000;
constexpr int64_t kMaxConfigDepth = 64;

struct WalkBudget {
  int64_t nodes = 0;
};

// Every key must be a string and appear once per map: yaml-cpp keeps duplicates and lookups
// would silently see only the first, so a preset's second `lr:` would be ignored.
void check_keys(const YAML::Node& node, const std::string& dotted, const Locator& locate, WalkBudget& budget,
                int64_t depth = 0) {
  if (++budget.nodes > kMaxConfigNodes) {
    throw_error(locate(dotted, node.Mark()), dotted,
                fmt::format("the config holds more than {} values once its YAML aliases (*name) are expanded; "
                            "a config needs a few hundred (is an alias repeated inside what it refers to?)",
                            kMaxConfigNodes));
  }
  if (depth > kMaxConfigDepth) {
    throw_error(locate(dotted, node.Mark()), common::excerpt(dotted, 80),
                fmt::format("maps and lists nest more than {} levels deep; a config needs a few", kMaxConfigDepth));
  }
  if (node.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& item : node) {
      if (!item.first.IsScalar()) {
        throw_error(locate(dotted, item.first.Mark()), dotted,
                    fmt::format("expected a string key, got {}", describe(item.first)));
      }
      const std::string& key = item.first.Scalar();
      const std::string child = join_path(dotted, key);
      auto [first, inserted] = seen.emplace(key, item.first.Mark());
      if (!inserted) {
        throw_error(locate(child, item.first.Mark()), child,
                    fmt::format("duplicate key; first defined at line {}", first->second.line + 1));
      }
      check_keys(item.second, child, locate, budget, depth + 1);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      check_keys(node[i], fmt::format("{}[{}]", dotted, i), locate, budget, depth + 1);
    }
  }
}

// Where to point at `key` of `map`: its value, or the key itself when the value is null (yaml-cpp marks a
// null at the token after it), or the map when the key is absent.
YAML::Mark mark_of(const YAML::Node& map, const std::string& key) {
  for (const auto& item : map) {
    if (item.first.Scalar() == key) return item.second.IsNull() ? item.first.Mark() : item.second.Mark();
  }
  return map.Mark();
}

// yaml-cpp's own emitter drops quotes, which would turn the string "512" into the integer 512 on reload.
void emit(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << (node.Style() == YAML::EmitterStyle::Flow ? YAML::Flow : YAML::Block) << YAML::BeginMap;
      for (const auto& item : node) {
        out << YAML::Key;
        emit(out, item.first);
        out << YAML::Value;
        emit(out, item.second);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      out << (node.Style() == YAML::EmitterStyle::Flow ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
      for (const auto& item : node) emit(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (is_plain(node)) {
        out << node.Scalar();
      } else {
        out << YAML::DoubleQuoted << node.Scalar();
      }
      break;
    default:  // Null; Undefined cannot occur in a parsed tree
      out << YAML::Null;
  }
}

// Edits between `a` and `b`: insertions, deletions, substitutions and swaps of neighbours ("trian"
// is one edit from "train"), the optimal string alignment distance.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

bool is_key_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

}  // namespace

std::optional<std::string> closest_name(const std::string& word, const std::vector<std::string>& names) {
  auto closest = std::min_element(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return edit_distance(word, a) < edit_distance(word, b);
  });
  if (closest == names.end() || edit_distance(word, *closest) > std::max<size_t>(1, word.size() / 3)) {
    return std::nullopt;
  }
  return *closest;
}

// ---------------------------------------------------------------------------------------------------------------
// Section

Section::Section(std::shared_ptr<detail::ConfigState> state, std::shared_ptr<const YAML::Node> node, std::string path)
    : state_(std::move(state)), node_(std::move(node)), path_(std::move(path)) {}

std::string Section::child_path(const std::string& key) const { return join_path(path_, key); }

const std::string& Section::file() const { return state_->file; }

template <class T>
std::optional<T> Section::read(const std::string& key, bool required) const {
  state_->asked[path_].insert(key);
  const YAML::Node value = (*node_)[key];
  if (value.IsDefined() && !value.IsNull()) return decode<T>(*state_, value, child_path(key));
  if (!required) return std::nullopt;
  const std::string what = value.IsDefined() ? fmt::format("expected {}, got null", type_name<T>())
                                             : fmt::format("missing required key; expected {}", type_name<T>());
  throw_at(*state_, child_path(key), mark_of(*node_, key), what);
}

template std::optional<bool> Section::read<bool>(const std::string&, bool) const;
template std::optional<int> Section::read<int>(const std::string&, bool) const;
template std::optional<int64_t> Section::read<int64_t>(const std::string&, bool) const;
template std::optional<double> Section::read<double>(const std::string&, bool) const;
template std::optional<std::string> Section::read<std::string>(const std::string&, bool) const;
template std::optional<std::vector<double>> Section::read<std::vector<double>>(const std::string&, bool) const;
template std::optional<std::vector<int64_t>> Section::read<std::vector<int64_t>>(const std::string&, bool) const;
template std::optional<std::vector<std::string>> Section::read<std::vector<std::string>>(const std::string&,
                                                                                         bool) const;

namespace {

/// A default as the YAML scalar or list Config::resolved_yaml writes: numbers in their shortest
/// round-trip form, strings tagged non-plain (so emit() quotes them and they read back as strings).
YAML::Node default_node(bool value) { return YAML::Node(value ? "true" : "false"); }
YAML::Node default_node(int64_t value) { return YAML::Node(fmt::format("{}", value)); }
YAML::Node default_node(int value) { return default_node(static_cast<int64_t>(value)); }
YAML::Node default_node(double value) { return YAML::Node(fmt::format("{}", value)); }
YAML::Node default_node(const std::string& value) {
  YAML::Node node(value);
  node.SetTag("!");
  return node;
}
template <class T>
YAML::Node default_node(const std::vector<T>& values) {
  YAML::Node list(YAML::NodeType::Sequence);
  list.SetStyle(YAML::EmitterStyle::Flow);
  for (const auto& value : values) list.push_back(default_node(value));
  return list;
}

}  // namespace

template <class T>
void Section::note_default(const std::string& key, const T& value) const {
  auto keys = keys_;
  keys.push_back(key);
  state_->defaults.emplace_back(std::move(keys), default_node(value));
}

template void Section::note_default<bool>(const std::string&, const bool&) const;
template void Section::note_default<int>(const std::string&, const int&) const;
template void Section::note_default<int64_t>(const std::string&, const int64_t&) const;
template void Section::note_default<double>(const std::string&, const double&) const;
template void Section::note_default<std::string>(const std::string&, const std::string&) const;
template void Section::note_default<std::vector<double>>(const std::string&, const std::vector<double>&) const;
template void Section::note_default<std::vector<int64_t>>(const std::string&, const std::vector<int64_t>&) const;
template void Section::note_default<std::vector<std::string>>(const std::string&,
                                                              const std::vector<std::string>&) const;

std::string Section::get_choice(const std::string& key, const std::string& default_value,
                                const std::vector<std::string>& allowed) const {
  std::string value = get<std::string>(key, default_value);
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    fail(key, fmt::format("expected one of: {}; got '{}'", fmt::join(allowed, ", "), common::excerpt(value)));
  }
  return value;
}

std::optional<Section> Section::optional_section(const std::string& key) const {
  state_->asked[path_].insert(key);
  const YAML::Node value = (*node_)[key];
  if (!value.IsDefined() || value.IsNull()) return std::nullopt;
  if (!value.IsMap()) throw_at(*state_, child_path(key), value.Mark(), "expected a map, got " + describe(value));
  Section child(state_, std::make_shared<const YAML::Node>(value), child_path(key));
  child.keys_ = keys_;
  child.keys_.push_back(key);
  return child;
}

Section Section::section(const std::string& key) const {
  std::optional<Section> child = optional_section(key);
  if (!child) throw_at(*state_, child_path(key), mark_of(*node_, key), "missing required section; expected a map");
  return *child;
}

bool Section::has(const std::string& key) const {
  state_->asked[path_].insert(key);
  const YAML::Node value = (*node_)[key];
  return value.IsDefined() && !value.IsNull();
}

bool Section::is_map(const std::string& key) const {
  state_->asked[path_].insert(key);
  const YAML::Node value = (*node_)[key];
  return value.IsDefined() && value.IsMap();
}

void Section::finish() const {
  const std::set<std::string>& asked = state_->asked[path_];
  for (const auto& item : *node_) {
    const std::string& key = item.first.Scalar();
    if (asked.count(key) > 0) continue;
    std::string what = asked.empty() ? "unknown key; this section takes no keys"
                                     : fmt::format("unknown key; allowed keys: {}", fmt::join(asked, ", "));
    if (auto closest = closest_name(key, {asked.begin(), asked.end()})) {
      what += fmt::format(" (did you mean '{}'?)", *closest);
    }
    throw_at(*state_, child_path(key), item.first.Mark(), what);
  }
}

void Section::fail(const std::string& key, const std::string& message) const {
  throw_at(*state_, child_path(key), mark_of(*node_, key), message);
}

void Section::fail_not_positive(const std::string& key, double value) const {
  fail(key, fmt::format("expected a value > 0, got {}", value));
}

void Section::fail_range(const std::string& key, double value, double min, double max) const {
  fail(key, fmt::format("expected a value in [{}, {}], got {}", min, max, value));
}

// ---------------------------------------------------------------------------------------------------------------
// Config

Config::Config(std::shared_ptr<detail::ConfigState> state) : state_(std::move(state)) {}

Config Config::load(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    bool exists = std::filesystem::exists(path, error);
    throw ConfigError(fmt::format("{}: cannot read config: {}", path, exists ? "not a regular file" : "no such file"));
  }
  constexpr uintmax_t kMaxConfigBytes = 16 << 20;
  const auto size = std::filesystem::file_size(path, error);
  if (!error && size > kMaxConfigBytes) {
    throw ConfigError(fmt::format("{}: cannot read config: it is {} bytes; a config is a few KB (at most {} bytes)",
                                  path, size, kMaxConfigBytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw ConfigError(fmt::format("{}: cannot read config: {}", path, std::strerror(errno)));
  return parse(text.str(), path);
}

Config Config::parse(const std::string& text, const std::string& name) {
  auto state = std::make_shared<detail::ConfigState>();
  state->file = name;
  if (const auto bad = find_unprintable(text)) {
    const auto line_start = text.rfind('\n', bad->offset);
    throw ConfigError(fmt::format(
        "{}:{}:{}: {}; a config is UTF-8 text", name,
        std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad->offset), '\n') + 1,
        bad->offset - (line_start == std::string::npos ? 0 : line_start + 1) + 1, bad->what));
  }
  try {
    state->root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(fmt::format("{}:{}:{}: YAML syntax error: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  // An empty file is an empty config; Sections keep handles on the root, so it must be a map from the start.
  if (state->root.IsNull()) state->root.reset(YAML::Node(YAML::NodeType::Map));
  if (!state->root.IsMap()) {
    throw_at(*state, "", state->root.Mark(), "expected a map of keys at the top level, got " + describe(state->root));
  }
  const detail::ConfigState& located = *state;
  WalkBudget budget;
  check_keys(
      state->root, "", [&](const std::string& dotted, const YAML::Mark& mark) { return located.locate(dotted, mark); },
      budget);
  return Config(std::move(state));
}

void Config::apply_override(const std::string& assignment) {
  const std::string location = "--set " + common::excerpt(assignment);
  if (const auto bad = find_unprintable(assignment)) {
    throw_error(location, "", fmt::format("{} at {}", bad->what, bad->offset + 1));
  }
  const size_t equals = assignment.find('=');
  if (equals == std::string::npos) throw_error(location, "", "malformed override; expected key.path=value");
  const std::string key = assignment.substr(0, equals);
  const std::string text = assignment.substr(equals + 1);

  std::vector<std::string> parts;
  for (size_t begin = 0;;) {
    size_t dot = key.find('.', begin);
    parts.push_back(key.substr(begin, dot - begin));
    if (dot == std::string::npos) break;
    begin = dot + 1;
  }
  for (const std::string& part : parts) {
    if (part.empty() || !std::all_of(part.begin(), part.end(), is_key_char)) {
      throw_error(location, "",
                  fmt::format("malformed key '{}'; expected dot-separated names of letters, digits, '_' and '-'", key));
    }
  }
  if (text.find_first_not_of(" \t") == std::string::npos) {
    throw_error(location, key, "empty value; expected key=value (key='' sets an empty string, key=null unsets)");
  }

  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw_error(location, key, fmt::format("value is not valid YAML: {}", e.msg));
  }
  WalkBudget budget;
  check_keys(value, key, [&](const std::string&, const YAML::Mark&) { return location; }, budget);

  // Check the whole path before changing anything, so a failed override leaves the config as it was.
  std::vector<std::string> created;  // intermediate maps this override creates
  YAML::Node walk;
  walk.reset(state_->root);
  std::string prefix;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const YAML::Node& parent = walk;
    YAML::Node child = parent[parts[i]];
    prefix = join_path(prefix, parts[i]);
    if (!child.IsDefined() || child.IsNull()) {
      created.push_back(prefix);
      for (size_t j = i + 1; j + 1 < parts.size(); ++j) created.push_back(join_path(created.back(), parts[j]));
      break;
    }
    if (!child.IsMap()) {
      throw_error(location, key,
                  fmt::format("cannot set a key inside {}, which is {}, not a map", prefix, describe(child)));
    }
    walk.reset(child);
  }

  // Node::operator= writes through to the node referred to; reset() rebinds the handle instead.
  YAML::Node node;
  node.reset(state_->root);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node child = node[parts[i]];
    if (!child.IsMap()) child = YAML::Node(YAML::NodeType::Map);
    node.reset(child);
  }
  node[parts.back()] = value;

  auto& overrides = state_->overrides;
  for (auto it = overrides.begin(); it != overrides.end();) {
    bool replaced = it->first == key || it->first.rfind(key + ".", 0) == 0;
    it = replaced ? overrides.erase(it) : std::next(it);
  }
  for (const std::string& dotted : created) overrides[dotted] = location;
  overrides[key] = location;
}

std::string Config::to_yaml() const {
  YAML::Emitter out;
  emit(out, state_->root);
  return std::string(out.c_str()) + "\n";
}

std::string Config::resolved_yaml() const {
  YAML::Node resolved = YAML::Clone(state_->root);
  for (const auto& [keys, value] : state_->defaults) {
    // Walk to the key's map, making the maps a default lies in (an absent optional section whose
    // keys were still read); a path through a list or a scalar is left alone.
    YAML::Node map = resolved;
    bool reachable = true;
    for (size_t i = 0; i + 1 < keys.size() && reachable; ++i) {
      if (!map[keys[i]].IsDefined() || map[keys[i]].IsNull()) map[keys[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = map[keys[i]];
      reachable = next.IsMap();
      map.reset(next);
    }
    if (!reachable || !map.IsMap()) continue;
    const YAML::Node current = map[keys.back()];
    if (!current.IsDefined() || current.IsNull()) map[keys.back()] = value;
  }
  YAML::Emitter out;
  emit(out, resolved);
  return std::string(out.c_str()) + "\n";
}

namespace {

/// `node` as flatten() shows it. A plain scalar means a bool or a number when it reads as one, as
/// Section reads it, and a string otherwise, the same string as when quoted: so strings are quoted.
/// (to_yaml() may quote a plain string -- yaml-cpp quotes one holding '&', or ',' inside a flow
/// map -- and reading it back must give the same leaves; found by fuzz/config_fuzzer.cpp.)
std::string canonical(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::vector<std::string> items;
    for (const auto& item : node) items.push_back(canonical(item));
    return fmt::format("[{}]", fmt::join(items, ", "));
  }
  if (node.IsMap()) {
    std::vector<std::string> items;
    for (const auto& item : node) items.push_back(canonical(item.first) + ": " + canonical(item.second));
    return fmt::format("{{{}}}", fmt::join(items, ", "));
  }
  if (!node.IsScalar()) return "null";
  const auto& text = node.Scalar();
  bool out_of_range = false;
  if (is_plain(node) && (parse_bool(text) || parse_number<int64_t>(text, &out_of_range) ||
                         parse_number<double>(text, &out_of_range) || out_of_range)) {
    return text;
  }
  YAML::Emitter out;
  out << YAML::DoubleQuoted << text;
  return out.c_str();
}

void flatten_into(const YAML::Node& node, const std::string& dotted, std::map<std::string, std::string>& leaves) {
  if (node.IsMap() && node.size() > 0) {
    for (const auto& item : node) flatten_into(item.second, join_path(dotted, item.first.Scalar()), leaves);
    return;
  }
  leaves[dotted] = canonical(node);
}

}  // namespace

std::map<std::string, std::string> Config::flatten() const {
  std::map<std::string, std::string> leaves;
  flatten_into(state_->root, "", leaves);
  return leaves;
}

Section Config::root() const { return Section(state_, std::make_shared<const YAML::Node>(state_->root), ""); }

Section Config::section(const std::string& key) const { return root().section(key); }

bool Config::has(const std::string& key) const { return root().has(key); }

const std::string& Config::file() const { return state_->file; }

}  // namespace torchzoo::configs
