#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <torch/torch.h>

#include "torchzoo/train/op_profile.h"

using namespace torchzoo::train;

namespace {

const OpStat* find(const OpProfile& profile, const std::string& name) {
  for (const auto& op : profile.ops()) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("OpProfiler counts the ops that ran, with self and total times", "[train][op_profile]") {
  const auto a = torch::randn({256, 256});
  const auto b = torch::randn({256, 256});
  OpProfiler profiler;
  profiler.start();
  for (int i = 0; i < 7; ++i) (void)torch::matmul(a, b);  // aten::matmul calls aten::mm
  for (int i = 0; i < 3; ++i) (void)torch::relu(a);
  const auto profile = profiler.stop();
  CHECK_FALSE(profiler.running());

  const auto* mm = find(profile, "aten::mm");
  const auto* matmul = find(profile, "aten::matmul");
  const auto* relu = find(profile, "aten::relu");
  REQUIRE(mm != nullptr);
  REQUIRE(matmul != nullptr);
  REQUIRE(relu != nullptr);
  CHECK(mm->calls == 7);
  CHECK(matmul->calls == 7);
  CHECK(relu->calls == 3);
  // matmul's total holds mm's; its self time is what is left.
  CHECK(matmul->total_us >= mm->total_us);
  CHECK(matmul->self_us <= matmul->total_us - mm->total_us + 1.0);
  CHECK(mm->self_us > 0.0);
  // Most self time first; the total is the sum of the rows and fits in the wall time on the
  // threads that ran (this one: intra-op work is recorded on its caller).
  for (size_t i = 1; i < profile.ops().size(); ++i) CHECK(profile.ops()[i - 1].self_us >= profile.ops()[i].self_us);
  CHECK(profile.ops().front().name == "aten::mm");
  CHECK(profile.self_us_total() <= profile.wall_us() * 1.01);

  const auto table = profile.table(2);
  CHECK_THAT(table, Catch::Contains("aten::mm"));
  CHECK_THAT(table, Catch::Contains("# of Calls"));
  CHECK_THAT(table, Catch::Contains("(2 shown)"));
}

TEST_CASE("OpProfile saves a Chrome trace", "[train][op_profile]") {
  OpProfiler profiler;
  profiler.start();
  (void)torch::mm(torch::randn({64, 64}), torch::randn({64, 64}));
  const auto profile = profiler.stop();
  const auto dir = std::filesystem::temp_directory_path() / ("torchzoo_op_profile_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "trace.json").string();
  profile.save_trace(path);
  std::ifstream in(path);
  const auto trace = nlohmann::json::parse(in);
  bool has_mm = false;
  for (const auto& event : trace.at("traceEvents")) has_mm = has_mm || event.value("name", "") == "aten::mm";
  CHECK(has_mm);
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("OpProfiler refuses a second start and a stop without start", "[train][op_profile][errors]") {
  OpProfiler profiler;
  REQUIRE_THROWS_WITH(profiler.stop(), Catch::Contains("stop() without start()"));
  profiler.start();
  OpProfiler other;
  REQUIRE_THROWS_WITH(other.start(), Catch::Contains("another profiler is active"));
  REQUIRE_THROWS_WITH(profiler.start(), Catch::Contains("already running"));
  (void)profiler.stop();
}

TEST_CASE("OpProfiler names a custom autograd function's backward by its class", "[train][op_profile]") {
  struct Twice : public torch::autograd::Function<Twice> {
    static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& x) { return x * 2; }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                   torch::autograd::variable_list grads) {
      return {grads[0] * 2};
    }
  };
  auto x = torch::randn({8}).requires_grad_(true);
  OpProfiler profiler;
  profiler.start();
  Twice::apply(x).sum().backward();
  const auto profile = profiler.stop();
  bool named = false;
  for (const auto& op : profile.ops()) named = named || op.name.find("Twice (backward)") != std::string::npos;
  CHECK(named);
}
