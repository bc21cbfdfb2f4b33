#include "torchzoo/configs/config.h"
#include "torchzoo/configs/builders.h"
#include "torchzoo/common/data_dir.h"
#include "torchzoo/common/format.h"
#include "torchzoo/train/fused_adam.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace {

using Catch::Contains;
using torchzoo::configs::Config;
using torchzoo::configs::ConfigError;
using torchzoo::configs::Section;

// A YAML file under the temp directory, removed when the test ends.
class TempYaml {
 public:
  TempYaml(const std::string& name, const std::string& text)
      : path_(std::filesystem::temp_directory_path() / ("torchzoo_test_" + name + ".yaml")) {
    std::ofstream(path_) << text;
  }
  ~TempYaml() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Line numbers in the tests below refer to this text (1-based).
const char* const kConfig = R"(model:
  name: transformer
  d_model: 512
  dropout: 0.1
  pre_norm: true
  betas: [0.9, 0.98]
  layers: [6, 6]
  tags: [a, b]
  quoted: "512"
  empty:
  encoder:
    num_layers: 6
train:
  lr: 3e-4
  steps: abc
)";

}  // namespace

TEST_CASE("Section reads each supported type", "[configs]") {
  TempYaml file("types", kConfig);
  Config config = Config::load(file.path());
  Section model = config.section("model");
  CHECK(model.require<std::string>("name") == "transformer");
  CHECK(model.require<int64_t>("d_model") == 512);
  CHECK(model.require<int>("d_model") == 512);
  CHECK(model.require<double>("dropout") == Approx(0.1));
  CHECK(model.require<double>("d_model") == 512.0);
  CHECK(model.require<bool>("pre_norm"));
  CHECK(model.require<std::vector<double>>("betas") == std::vector<double>{0.9, 0.98});
  CHECK(model.require<std::vector<int64_t>>("layers") == std::vector<int64_t>{6, 6});
  CHECK(model.require<std::vector<std::string>>("tags") == std::vector<std::string>{"a", "b"});
  CHECK(model.require<std::string>("quoted") == "512");
  CHECK(model.section("encoder").require<int64_t>("num_layers") == 6);
  CHECK(config.section("train").require<double>("lr") == Approx(3e-4));
  CHECK(model.path() == "model");
  CHECK(model.section("encoder").path() == "model.encoder");
  CHECK(model.file() == file.path());
  CHECK(config.file() == file.path());
}

TEST_CASE("Numbers follow YAML spelling", "[configs]") {
  Config config = Config::parse("a: +5\nb: -7\nc: .inf\nd: -.inf\ne: .nan\nf: 1e3\ng: +2.5\nh: False\n", "t");
  Section root = config.root();
  CHECK(root.require<int64_t>("a") == 5);
  CHECK(root.require<int64_t>("b") == -7);
  CHECK(std::isinf(root.require<double>("c")));
  CHECK(root.require<double>("d") < 0);
  CHECK(std::isnan(root.require<double>("e")));
  CHECK(root.require<double>("f") == 1000.0);
  CHECK(root.require<double>("g") == 2.5);
  CHECK_FALSE(root.require<bool>("h"));
}

TEST_CASE("Defaults apply to absent and null keys", "[configs]") {
  Config config = Config::parse(kConfig, "copy.yaml");
  Section model = config.section("model");
  CHECK(model.get<int64_t>("d_ff", 2048) == 2048);
  CHECK(model.get<int64_t>("d_model", 7) == 512);
  CHECK(model.get("activation", "relu") == "relu");
  CHECK(model.get("dropout", 0.5) == Approx(0.1));
  CHECK(model.get<std::vector<double>>("missing", {1.0, 2.0}) == std::vector<double>{1.0, 2.0});
  CHECK(model.get<int64_t>("empty", 3) == 3);  // `empty:` is null, so the default applies
  CHECK_FALSE(model.get_optional<int64_t>("empty"));
  CHECK_FALSE(model.get_optional<double>("d_ff"));
  CHECK(model.get_optional<double>("dropout") == Approx(0.1));
  CHECK(model.has("d_model"));
  CHECK_FALSE(model.has("empty"));
  CHECK_FALSE(model.has("d_ff"));
  CHECK_FALSE(model.optional_section("decoder"));
  CHECK(model.optional_section("encoder"));
  CHECK(config.has("train"));
  CHECK_FALSE(config.has("data"));
}

TEST_CASE("Missing required keys and sections are errors", "[configs]") {
  TempYaml file("missing", kConfig);
  Config config = Config::load(file.path());
  Section model = config.section("model");
  REQUIRE_THROWS_AS(model.require<int64_t>("d_ff"), ConfigError);
  REQUIRE_THROWS_WITH(model.require<int64_t>("d_ff"),
                      Contains(file.path() + ":2:3: model.d_ff: missing required key; expected an integer"));
  REQUIRE_THROWS_WITH(model.require<int64_t>("empty"), Contains(":10:3: model.empty: expected an integer, got null"));
  REQUIRE_THROWS_WITH(config.section("data"), Contains("data: missing required section; expected a map"));
  REQUIRE_THROWS_WITH(model.section("decoder"), Contains("model.decoder: missing required section"));
}

TEST_CASE("Wrong types name file, line, column, key, expected type and got value", "[configs]") {
  TempYaml file("types_wrong", kConfig);
  Config config = Config::load(file.path());
  Section model = config.section("model");
  Section train = config.section("train");
  REQUIRE_THROWS_WITH(train.require<int64_t>("steps"),
                      Contains(file.path() + ":15:10: train.steps: expected an integer, got 'abc'"));
  REQUIRE_THROWS_WITH(train.get<int64_t>("steps", 1), Contains("train.steps: expected an integer, got 'abc'"));
  REQUIRE_THROWS_WITH(model.require<int64_t>("dropout"),
                      Contains(":4:12: model.dropout: expected an integer, got '0.1'"));
  REQUIRE_THROWS_WITH(model.require<int64_t>("encoder"),
                      Contains(":12:5: model.encoder: expected an integer, got a map"));
  REQUIRE_THROWS_WITH(model.require<std::string>("betas"), Contains("model.betas: expected a string, got a list of 2"));
  REQUIRE_THROWS_WITH(model.require<std::vector<double>>("dropout"),
                      Contains("model.dropout: expected a list of numbers, got '0.1'"));
  REQUIRE_THROWS_WITH(model.require<std::vector<int64_t>>("betas"),
                      Contains(":6:11: model.betas[0]: expected an integer, got '0.9'"));
  REQUIRE_THROWS_WITH(model.require<std::vector<double>>("tags"),
                      Contains(":8:10: model.tags[0]: expected a number, got 'a'"));
  REQUIRE_THROWS_WITH(model.require<int64_t>("quoted"),
                      Contains("model.quoted: expected an integer, got the quoted string \"512\""));
  REQUIRE_THROWS_WITH(model.require<bool>("name"),
                      Contains("model.name: expected a bool (true or false), got 'transformer'"));
  REQUIRE_THROWS_WITH(model.section("name"), Contains(":2:9: model.name: expected a map, got 'transformer'"));
  REQUIRE_THROWS_WITH(config.section("model").get_optional<double>("name"), Contains("expected a number"));
}

TEST_CASE("Strict scalars: no yes/no bools, no truncated or overflowing integers", "[configs]") {
  Config config = Config::parse("flag: yes\nratio: 1.5\nbig: 3000000000\nhuge: 1e999\nhex: 0x10\n", "strict.yaml");
  Section root = config.root();
  REQUIRE_THROWS_WITH(root.require<bool>("flag"),
                      Contains("strict.yaml:1:7: flag: expected a bool (true or false), got 'yes'"));
  REQUIRE_THROWS_WITH(root.require<int64_t>("ratio"), Contains("ratio: expected an integer, got '1.5'"));
  REQUIRE_THROWS_WITH(root.require<int>("ratio"), Contains("ratio: expected an integer, got '1.5'"));
  CHECK(root.require<int64_t>("big") == 3000000000LL);
  REQUIRE_THROWS_WITH(root.require<int>("big"),
                      Contains("big: expected an integer in [-2147483648, 2147483647], got '3000000000'"));
  REQUIRE_THROWS_WITH(root.require<double>("huge"), Contains("huge: expected a number within double range"));
  REQUIRE_THROWS_WITH(root.require<int64_t>("hex"), Contains("hex: expected an integer, got '0x10'"));
}

TEST_CASE("finish() rejects unknown keys and lists the allowed ones", "[configs]") {
  TempYaml file("unknown", "model:\n  d_model: 512\n  d_modl: 256\n  d_ff: 2048\n");
  Config config = Config::load(file.path());
  Section model = config.section("model");
  model.get<int64_t>("d_model", 512);
  model.get<int64_t>("d_ff", 2048);
  model.get<int64_t>("num_heads", 8);  // absent, but asked for, so allowed
  REQUIRE_THROWS_AS(model.finish(), ConfigError);
  REQUIRE_THROWS_WITH(model.finish(),
                      Contains(file.path() + ":3:3: model.d_modl: unknown key; allowed keys: d_ff, d_model, "
                                                 "num_heads (did you mean 'd_model'?)"));
  model.has("d_modl");  // has() marks a key as known
  CHECK_NOTHROW(model.finish());
  CHECK_NOTHROW(config.root().finish());  // the root read "model" through section()
}

TEST_CASE("finish() on a section nobody reads, and on the root", "[configs]") {
  Config config = Config::parse("model: {}\nextra: 1\n", "x.yaml");
  config.section("model").finish();
  REQUIRE_THROWS_WITH(config.root().finish(), Contains("x.yaml:2:1: extra: unknown key; allowed keys: model"));
  Config bare = Config::parse("a: 1\n", "bare.yaml");
  REQUIRE_THROWS_WITH(bare.root().finish(), Contains("bare.yaml:1:1: a: unknown key; this section takes no keys"));
}

TEST_CASE("Reads are shared by all views of a path", "[configs]") {
  Config config = Config::parse("train:\n  lr: 0.1\n  steps: 10\n", "t.yaml");
  config.section("train").require<double>("lr");
  Section train = config.section("train");
  train.require<int64_t>("steps");
  CHECK_NOTHROW(train.finish());
}

TEST_CASE("Choices and ranges", "[configs]") {
  Config config = Config::parse("decode: bam\ndropout: 1.5\nheads: -2\nok: 4\n", "c.yaml");
  Section root = config.root();
  REQUIRE_THROWS_WITH(root.get_choice("decode", "greedy", {"greedy", "beam", "sample"}),
                      Contains("c.yaml:1:9: decode: expected one of: greedy, beam, sample; got 'bam'"));
  CHECK(root.get_choice("method", "beam", {"greedy", "beam"}) == "beam");
  REQUIRE_THROWS_WITH(root.get_in_range("dropout", 0.1, 0.0, 1.0),
                      Contains("c.yaml:2:10: dropout: expected a value in [0, 1], got 1.5"));
  CHECK(root.get_in_range("p", 0.1, 0.0, 1.0) == Approx(0.1));
  REQUIRE_THROWS_WITH(root.get_positive<int64_t>("heads", 8),
                      Contains("c.yaml:3:8: heads: expected a value > 0, got -2"));
  CHECK(root.get_positive<int64_t>("ok", 8) == 4);
  CHECK(root.get_positive<double>("lr", 1e-3) == Approx(1e-3));
  REQUIRE_THROWS_WITH(root.fail("ok", "must divide d_model=10"), Contains("c.yaml:4:5: ok: must divide d_model=10"));
}

TEST_CASE("Loading errors name the file and line", "[configs]") {
  REQUIRE_THROWS_WITH(Config::load("/nonexistent/torchzoo.yaml"),
                      Contains("/nonexistent/torchzoo.yaml: cannot read config: no such file"));
  REQUIRE_THROWS_WITH(Config::load(std::filesystem::temp_directory_path().string()),
                      Contains("cannot read config: not a regular file"));
  TempYaml syntax("syntax", "model:\n  d_model: 512\n  bad: [1, 2\n");
  REQUIRE_THROWS_AS(Config::load(syntax.path()), ConfigError);
  REQUIRE_THROWS_WITH(Config::load(syntax.path()), Contains(syntax.path() + ":") && Contains("YAML syntax error"));
  REQUIRE_THROWS_WITH(Config::parse("a: 1\nb: [\n", "s.yaml"), Contains("s.yaml:3:1: YAML syntax error"));
  REQUIRE_THROWS_WITH(Config::parse("model:\n  lr: 1\n  lr: 2\n", "dup.yaml"),
                      Contains("dup.yaml:3:3: model.lr: duplicate key; first defined at line 2"));
  REQUIRE_THROWS_WITH(Config::parse("- 1\n- 2\n", "list.yaml"),
                      Contains("list.yaml:1:1: expected a map of keys at the top level, got a list of 2 items"));
  REQUIRE_THROWS_WITH(Config::parse("[1, 2]: x\n", "key.yaml"), Contains("expected a string key, got a list"));
  // YAML is UTF-8 text: other bytes are refused where they are (found by fuzz/config_fuzzer.cpp).
  REQUIRE_THROWS_WITH(Config::parse("model:\n  d_m\xb5odel: 8\n", "bytes.yaml"),
                      Contains("bytes.yaml:2:6: not valid UTF-8 (byte 0xb5)"));
  REQUIRE_THROWS_WITH(Config::parse("a: 1\nb: x\x14y\n", "control.yaml"),
                      Contains("control.yaml:2:5: control character 0x14"));
  REQUIRE_THROWS_WITH(Config::parse("a: 1\rb: 2\n", "cr.yaml"),
                      Contains("cr.yaml:1:5: a carriage return without a line feed after it"));
  CHECK(Config::parse("a: 1\r\nb: 2\r\n", "crlf.yaml").flatten().at("b") == "2");
  Config empty = Config::parse("# nothing here\n", "empty.yaml");
  CHECK_FALSE(empty.has("model"));
  CHECK_NOTHROW(empty.root().finish());
}

TEST_CASE("Overrides replace existing keys and create new nested ones", "[configs]") {
  Config config = Config::parse(kConfig, "copy.yaml");
  config.apply_override("model.d_model=256");
  config.apply_override("model.betas=[0.8, 0.9]");
  config.apply_override("train.optimizer.name=adam");
  config.apply_override("data.path=a=b.txt");  // the first '=' splits
  config.apply_override("model.empty.size=3");  // a null value becomes a map
  config.apply_override("model.encoder={num_layers: 2, d_ff: 64}");
  config.apply_override("model.dropout=null");
  config.apply_override("model.name=''");
  Section model = config.section("model");
  CHECK(model.require<int64_t>("d_model") == 256);
  CHECK(model.require<std::vector<double>>("betas") == std::vector<double>{0.8, 0.9});
  CHECK(config.section("train").section("optimizer").require<std::string>("name") == "adam");
  CHECK(config.section("data").require<std::string>("path") == "a=b.txt");
  CHECK(model.section("empty").require<int64_t>("size") == 3);
  CHECK(model.section("encoder").require<int64_t>("num_layers") == 2);
  CHECK(model.section("encoder").require<int64_t>("d_ff") == 64);
  CHECK(model.get("dropout", 0.3) == Approx(0.3));
  CHECK(model.require<std::string>("name").empty());
  CHECK(config.section("train").require<double>("lr") == Approx(3e-4));  // untouched
}

TEST_CASE("Errors on overridden keys cite the --set", "[configs]") {
  Config config = Config::parse(kConfig, "copy.yaml");
  config.apply_override("model.d_model=abc");
  config.apply_override("train.optimizer.nmae=adam");
  config.apply_override("model.encoder={num_layers: x}");
  REQUIRE_THROWS_WITH(config.section("model").require<int64_t>("d_model"),
                      Contains("--set model.d_model=abc: model.d_model: expected an integer, got 'abc'"));
  Section train = config.section("train");
  train.get<double>("lr", 0.1);
  REQUIRE_THROWS_WITH(train.get<int64_t>("steps", 0), Contains("copy.yaml:15:10: train.steps"));  // still from the file
  // The --set created the map train.optimizer, so an error on it cites that --set too.
  REQUIRE_THROWS_WITH(train.finish(),
                      Contains("--set train.optimizer.nmae=adam: train.optimizer: unknown key; "
                               "allowed keys: lr, steps"));
  Section optimizer = train.section("optimizer");
  optimizer.get("name", "sgd");
  REQUIRE_THROWS_WITH(optimizer.finish(),
                      Contains("--set train.optimizer.nmae=adam: train.optimizer.nmae: unknown key; "
                               "allowed keys: name"));
  REQUIRE_THROWS_WITH(config.section("model").section("encoder").require<int64_t>("num_layers"),
                      Contains("--set model.encoder={num_layers: x}: model.encoder.num_layers: expected an integer"));
  // Keys from the file keep their file location.
  REQUIRE_THROWS_WITH(config.section("model").require<int64_t>("name"), Contains("copy.yaml:2:9: model.name"));
}

TEST_CASE("A later override of a parent replaces what earlier ones set inside it", "[configs]") {
  Config config = Config::parse("model: {}\n", "m.yaml");
  config.apply_override("model.x.y=1");
  config.apply_override("model.x=2");
  Section model = config.section("model");
  CHECK(model.require<int64_t>("x") == 2);
  REQUIRE_THROWS_WITH(model.require<bool>("x"), Contains("--set model.x=2: model.x: expected a bool"));
}

TEST_CASE("Malformed overrides are errors that leave the config unchanged", "[configs]") {
  Config config = Config::parse(kConfig, "copy.yaml");
  const std::string before = config.to_yaml();
  REQUIRE_THROWS_AS(config.apply_override("model.d_model"), ConfigError);
  REQUIRE_THROWS_WITH(config.apply_override("model.d_model"),
                      Contains("--set model.d_model: malformed override; expected key.path=value"));
  REQUIRE_THROWS_WITH(config.apply_override("=3"), Contains("--set =3: malformed key ''"));
  REQUIRE_THROWS_WITH(config.apply_override("model..d_model=3"), Contains("malformed key 'model..d_model'"));
  REQUIRE_THROWS_WITH(config.apply_override("model.d model=3"), Contains("malformed key 'model.d model'"));
  REQUIRE_THROWS_WITH(config.apply_override("model.d_model="),
                      Contains("--set model.d_model=: model.d_model: empty value"));
  REQUIRE_THROWS_WITH(config.apply_override("model.betas=[0.9, 0.98"),
                      Contains("--set model.betas=[0.9, 0.98: model.betas: value is not valid YAML"));
  REQUIRE_THROWS_WITH(config.apply_override("model.d_model.x.y=3"),
                      Contains("--set model.d_model.x.y=3: model.d_model.x.y: cannot set a key inside model.d_model, "
                               "which is '512', not a map"));
  REQUIRE_THROWS_WITH(config.apply_override("model.betas.x=3"), Contains("which is a list of 2 items, not a map"));
  REQUIRE_THROWS_WITH(config.apply_override("model.name=caf\xc3"),
                      Contains("--set model.name=caf") && Contains("not valid UTF-8 (byte 0xc3) at 15"));
  REQUIRE_THROWS_WITH(config.apply_override("model.name=adam\r"),
                      Contains("a carriage return without a line feed after it at 16"));
  REQUIRE_THROWS_WITH(config.apply_override("model={a: 1, a: 2}"),
                      Contains("--set model={a: 1, a: 2}: model.a: duplicate key"));
  CHECK(config.to_yaml() == before);
}

TEST_CASE("to_yaml round-trips the effective config", "[configs]") {
  Config config = Config::parse(kConfig, "copy.yaml");
  config.apply_override("model.d_model=256");
  config.apply_override("train.betas=[0.9, 0.98]");
  config.apply_override("train.name='007'");
  const std::string yaml = config.to_yaml();
  Config reloaded = Config::parse(yaml, "checkpoint:config");
  Section model = reloaded.section("model");
  CHECK(model.require<int64_t>("d_model") == 256);
  CHECK(model.require<double>("dropout") == Approx(0.1));
  CHECK(model.require<bool>("pre_norm"));
  CHECK(model.require<std::vector<std::string>>("tags") == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(model.has("empty"));
  CHECK(model.section("encoder").require<int64_t>("num_layers") == 6);
  // Quoted strings stay strings: "512" must not come back as an integer.
  REQUIRE_THROWS_WITH(model.require<int64_t>("quoted"), Contains("got the quoted string \"512\""));
  CHECK(model.require<std::string>("quoted") == "512");
  Section train = reloaded.section("train");
  CHECK(train.require<std::vector<double>>("betas") == std::vector<double>{0.9, 0.98});
  CHECK(train.require<std::string>("name") == "007");
  CHECK(train.require<std::string>("lr") == "3e-4");  // scalars keep their original spelling
  CHECK(yaml.find("\"betas\"") == std::string::npos);  // keys created by --set are written plain
  CHECK(reloaded.to_yaml() == yaml);
}

TEST_CASE("String values expand ${data_dir}, other variables are errors at their location", "[configs][data_dir]") {
  torchzoo::common::set_data_dir("/srv/corpora");
  Config config = Config::parse(
      "data:\n"
      "  train: ${data_dir}/libreoffice-langid/train.tsv\n"
      "  literal: cost$${x} and $5\n"
      "  typo: ${data_root}/train.tsv\n"
      "  open: ${data_dir\n"
      "  files:\n"
      "    - ${data_dir}/a.txt\n"
      "    - b.txt\n",
      "vars.yaml");
  config.apply_override("data.valid='${data_dir}/valid.tsv'");
  Section data = config.section("data");
  CHECK(data.require<std::string>("train") == "/srv/corpora/libreoffice-langid/train.tsv");
  CHECK(data.require<std::vector<std::string>>("files") == std::vector<std::string>{"/srv/corpora/a.txt", "b.txt"});
  CHECK(data.require<std::string>("literal") == "cost${x} and $5");
  CHECK(data.require<std::string>("valid") == "/srv/corpora/valid.tsv");
  REQUIRE_THROWS_WITH(data.require<std::string>("typo"),
                      Contains("vars.yaml:4:9: data.typo: unknown variable '${data_root}'; known: ${data_dir}"));
  REQUIRE_THROWS_WITH(data.require<std::string>("open"),
                      Contains("vars.yaml:5:9: data.open: '${data_dir' opens '${' without a closing '}'"));
  // The stored config keeps the variable, so a checkpoint follows a moved data directory.
  CHECK_THAT(config.to_yaml(), Contains("${data_dir}/libreoffice-langid/train.tsv"));
  torchzoo::common::set_data_dir("/mnt/elsewhere");
  CHECK(data.require<std::string>("train") == "/mnt/elsewhere/libreoffice-langid/train.tsv");
  torchzoo::common::set_data_dir("");
}

TEST_CASE("YAML aliases that expand past the node bound are refused at once, with file:line", "[config][faults]") {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    text += fmt::format("a{}: &a{} [", i, i);
    for (int j = 0; j < 9; ++j) text += fmt::format("{}*a{}", j == 0 ? "" : ", ", i - 1);
    text += "]\n";
  }
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(Config::parse(text, "bomb.yaml"),
                    Catch::Contains("bomb.yaml:") && Catch::Contains("aliases") && Catch::Contains("100000"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));  // hang guard, generous
  // A config of normal size with aliases is fine.
  CHECK_NOTHROW(Config::parse("base: &b {lr: 1}\nother: *b\n", "ok.yaml"));
  CHECK_THROWS_WITH(Config::parse("deep: " + std::string(80, '[') + std::string(80, ']') + "\n", "deep.yaml"),
                    Catch::Contains("deep.yaml:1:") && Catch::Contains("nest more than 64 levels"));
}

TEST_CASE("Config values echoed in errors are cut", "[config][faults]") {
  auto config = Config::parse("name: " + std::string(100000, 'x') + "\n", "long.yaml");
  try {
    config.root().get_choice("name", "a", {"a", "b"});
    FAIL("expected a ConfigError");
  } catch (const ConfigError& error) {
    CHECK(std::string(error.what()).size() < 1000);
    CHECK_THAT(error.what(), Catch::Contains("long.yaml:1:") && Catch::Contains("100000 bytes in all"));
  }
}

TEST_CASE("closest_name counts a swap of neighbours as one edit", "[config]") {
  CHECK(torchzoo::configs::closest_name("trian", {"train", "eval"}) == std::optional<std::string>("train"));
  CHECK(torchzoo::configs::closest_name("d_modl", {"d_model", "d_ff"}) == std::optional<std::string>("d_model"));
  CHECK_FALSE(torchzoo::configs::closest_name("zzzz", {"train", "eval"}).has_value());
}

TEST_CASE("flatten lists every leaf by dotted key", "[config]") {
  auto config = Config::parse("model: {d_model: 64, name: x}\noptimizer:\n  betas: [0.9, 0.98]\n", "f.yaml");
  const auto leaves = config.flatten();
  CHECK(leaves.at("model.d_model") == "64");
  CHECK(leaves.at("model.name") == "\"x\"");
  CHECK(leaves.at("optimizer.betas") == "[0.9, 0.98]");
  CHECK(leaves.size() == 3);
  // Equal values compare equal however they are spelt; a quoted number is a string.
  const auto spelt = Config::parse("model:\n  d_model: 64\n  name: \"x\"\noptimizer: {betas: [0.9, 0.98]}\n", "g.yaml");
  CHECK(spelt.flatten() == leaves);
  CHECK(Config::parse("a: '64'\n", "q.yaml").flatten().at("a") == "\"64\"");
  CHECK(Config::parse("a: 0.1e-494 0.98\n", "u.yaml").flatten().at("a") == "\"0.1e-494 0.98\"");
  // A plain string yaml-cpp must quote (it holds '&') reads back from to_yaml() to the same leaves.
  auto ampersand = Config::parse("m: {a: 1}\n", "amp.yaml");
  ampersand.apply_override("m.b=x&y, z");
  CHECK(Config::parse(ampersand.to_yaml(), "again.yaml").flatten() == ampersand.flatten());
}

TEST_CASE("adam and adamw step through ATen's fused kernel unless optimizer.fused is false", "[configs][optimizer]") {
  torch::nn::Linear model(4, 3);
  for (const std::string name : {"adam", "adamw"}) {
    for (const bool fused : {true, false}) {
      Config config = Config::parse(fmt::format("optimizer:\n  lr: 0.01\n  fused: {}\n", fused),
                                    "optimizer.yaml");
      auto section = config.section("optimizer");
      const auto optimizer = name == "adam" ? torchzoo::configs::build_adam(section, *model)
                                            : torchzoo::configs::build_adamw(section, *model);
      const auto* raw = optimizer.get();
      const bool is_fused = dynamic_cast<const torchzoo::train::FusedAdam*>(raw) != nullptr ||
                            dynamic_cast<const torchzoo::train::FusedAdamW*>(raw) != nullptr;
      INFO(name << " fused: " << fused);
      CHECK(is_fused == fused);
    }
  }
}

TEST_CASE("resolved_yaml writes in every default the readers applied", "[config][resolved]") {
  auto config = Config::parse("model:\n  d_model: 64\ntrain:\n  lr: 0.5\n", "r.yaml");
  const auto model = config.section("model");
  CHECK(model.get<int64_t>("d_model", 512) == 64);  // given: stays as written
  CHECK(model.get<int64_t>("num_layers", 6) == 6);  // absent: the default
  CHECK(model.get<double>("dropout", 0.1) == 0.1);
  CHECK(model.get<bool>("bias", true));
  CHECK(model.get("activation", "relu") == "relu");
  CHECK(model.get<std::vector<double>>("betas", {0.9, 0.98}) == std::vector<double>{0.9, 0.98});
  CHECK(model.get("number_as_text", "1e-4") == "1e-4");  // a string default that looks like a number
  if (auto absent = config.root().optional_section("scheduler")) FAIL("no scheduler section");
  const auto train = config.section("train");
  CHECK(train.get<double>("lr", 1.0) == 0.5);
  CHECK(config.to_yaml().find("num_layers") == std::string::npos);  // to_yaml() stays what the user wrote

  const auto text = config.resolved_yaml();
  INFO(text);
  auto resolved = Config::parse(text, "resolved.yaml");
  const auto again = resolved.section("model");
  CHECK(again.require<int64_t>("d_model") == 64);
  CHECK(again.require<int64_t>("num_layers") == 6);
  CHECK(again.require<double>("dropout") == 0.1);
  CHECK(again.require<bool>("bias"));
  CHECK(again.require<std::string>("activation") == "relu");
  CHECK(again.require<std::vector<double>>("betas") == std::vector<double>{0.9, 0.98});
  CHECK(again.require<std::string>("number_as_text") == "1e-4");  // read back as the string it was
  CHECK(resolved.section("train").require<double>("lr") == 0.5);
  CHECK_FALSE(resolved.has("scheduler"));
  // Resolving the resolved config changes nothing.
  const auto model_again = resolved.section("model");
  (void)model_again.get<int64_t>("num_layers", 6);
  CHECK(resolved.resolved_yaml() == text);
}

TEST_CASE("resolved_yaml keeps given values beside the defaults of nested sections", "[config][resolved]") {
  auto config = Config::parse("train:\n  save_every: 5\n  grad_scaler: {enabled: true}\n", "r.yaml");
  const auto train = config.section("train");
  CHECK(train.get<int64_t>("save_every", 0) == 5);
  CHECK(train.section("grad_scaler").get<double>("init_scale", 65536.0) == 65536.0);
  CHECK(train.get<int64_t>("epochs", 3) == 3);
  const auto text = config.resolved_yaml();
  INFO(text);
  auto resolved = Config::parse(text, "resolved.yaml");
  CHECK(resolved.section("train").require<int64_t>("epochs") == 3);
  CHECK(resolved.section("train").require<int64_t>("save_every") == 5);
  CHECK(resolved.section("train").section("grad_scaler").require<bool>("enabled"));
  CHECK(resolved.section("train").section("grad_scaler").require<double>("init_scale") == 65536.0);
}
