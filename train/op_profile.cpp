#include "torchzoo/train/op_profile.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <unistd.h>

#include "torchzoo/common/check.h"
#include "torchzoo/common/format.h"

namespace torchzoo::train {

namespace {

namespace profiler = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A custom autograd function's backward node is recorded under its C++ type,
// "torch::autograd::CppNode<ns::(anonymous namespace)::NameFunction>": shown as "NameFunction (backward)".
std::string readable(std::string name) {
  constexpr std::string_view kNode = "torch::autograd::CppNode<";
  if (name.rfind(kNode, 0) != 0 || name.back() != '>') return name;
  const auto inner = name.substr(kNode.size(), name.size() - kNode.size() - 1);
  const auto last = inner.rfind("::");
  return (last == std::string::npos ? inner : inner.substr(last + 2)) + " (backward)";
}

// One recorded op, and the ops it called (those that ran within its span on its thread).
struct Span {
  std::string name;
  int64_t start_ns = 0, end_ns = 0;
  double self_ns = 0.0;
};

// Folds the events into one OpStat per name. Events nest by time on each thread, as in Python's
// EventList: an event's parent is the innermost earlier event on its thread whose span holds it.
// An op called from within itself (a recursive dispatch) counts its total once.
std::vector<OpStat> fold(const std::vector<profiler::KinetoEvent>& events) {
  std::map<uint64_t, std::vector<Span>> by_thread;
  for (const auto& event : events) {
    if (event.deviceType() != c10::DeviceType::CPU || event.isAsync() || event.isHiddenEvent()) continue;
    const auto start = static_cast<int64_t>(event.startNs());
    by_thread[event.startThreadId()].push_back(
        {readable(event.name()), start, start + static_cast<int64_t>(event.durationNs()), 0.0});
  }
  std::map<std::string, OpStat> by_name;
  for (auto& [thread, spans] : by_thread) {
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.end_ns > b.end_ns;
    });
    std::vector<Span*> open;  // the current event's ancestors, outermost first
    std::multiset<std::string> open_names;
    const auto close = [&] {
      Span* done = open.back();
      open.pop_back();
      open_names.erase(open_names.find(done->name));
      auto& stat = by_name[done->name];
      stat.name = done->name;
      stat.calls += 1;
      stat.self_us += std::max(0.0, done->self_ns) / 1e3;
      if (open_names.count(done->name) == 0) stat.total_us += static_cast<double>(done->end_ns - done->start_ns) / 1e3;
    };
    for (auto& span : spans) {
      while (!open.empty() && open.back()->end_ns <= span.start_ns) close();
      span.self_ns = static_cast<double>(span.end_ns - span.start_ns);
      if (!open.empty()) open.back()->self_ns -= static_cast<double>(std::min(span.end_ns, open.back()->end_ns) -
                                                                         span.start_ns);
      open.push_back(&span);
      open_names.insert(span.name);
    }
    while (!open.empty()) close();
  }
  std::vector<OpStat> ops;
  ops.reserve(by_name.size());
  for (auto& [name, stat] : by_name) ops.push_back(std::move(stat));
  std::sort(ops.begin(), ops.end(), [](const OpStat& a, const OpStat& b) {
    return a.self_us != b.self_us ? a.self_us > b.self_us : a.name < b.name;
  });
  return ops;
}

}  // namespace

OpProfile::OpProfile(std::vector<OpStat> ops, double wall_us, std::shared_ptr<profiler::ProfilerResult> trace)
    : ops_(std::move(ops)), wall_us_(wall_us), trace_(std::move(trace)) {}

double OpProfile::self_us_total() const {
  double total = 0.0;
  for (const auto& op : ops_) {
    total += op.self_us;
  }
  return total;
}

std::string OpProfile::table(size_t rows) const {
  const double all = self_us_total();
  size_t width = 4;  // "Name"
  const size_t shown = std::min(rows, ops_.size());
  for (size_t i = 0; i < shown; ++i) {
    width = std::max(width, ops_[i].name.size());
  }
  std::string out = fmt::format("{:<{}}  {:>10}  {:>7}  {:>12}  {:>12}  {:>11}\n", "Name", width, "Self CPU", "Self %",
                                "CPU total", "avg (self)", "# of Calls");
  for (size_t i = 0; i < shown; ++i) {
    const auto& op = ops_[i];
    out += fmt::format("{:<{}}  {:>8.2f}ms  {:>6.2f}%  {:>10.2f}ms  {:>10.1f}us  {:>11}\n", op.name, width,
                       op.self_us / 1e3, all > 0 ? 100.0 * op.self_us / all : 0.0, op.total_us / 1e3,
                       op.self_us / static_cast<double>(op.calls), op.calls);
  }
  out += fmt::format("Self CPU time total: {:.2f}ms in {} op names ({} shown); wall time {:.2f}ms\n", all / 1e3,
                     ops_.size(), shown, wall_us_ / 1e3);
  return out;
}

void OpProfile::save_trace(const std::string& path) const {
  TORCHZOO_CHECK(trace_ != nullptr, "OpProfile: no trace to save to {}", path);
  // Kineto writes the file itself: write it beside the target, then rename it over the target,
  // so a reader never sees half a trace.
  const auto temporary = fmt::format("{}.tmp-{}", path, ::getpid());
  trace_->save(temporary);
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary);
    throw std::runtime_error(fmt::format("OpProfile: cannot write the trace {}: {}", path, error.message()));
  }
}

OpProfiler::~OpProfiler() {
  if (running_) {
    try {
      profiler::disableProfiler();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; nothing is left to report to
    }
  }
}

void OpProfiler::start() {
  TORCHZOO_CHECK(!running_, "OpProfiler: start() while already running");
  TORCHZOO_CHECK(!profiler::isProfilerEnabledInMainThread(),
                 "OpProfiler: another profiler is active in this process; one at a time");
  const ProfilerConfig config(ProfilerState::KINETO);
  const std::set<ActivityType> activities{ActivityType::CPU};
  profiler::prepareProfiler(config, activities);
  profiler::enableProfiler(config, activities);
  running_ = true;
  started_ns_ = now_ns();
}

OpProfile OpProfiler::stop() {
  TORCHZOO_CHECK(running_, "OpProfiler: stop() without start()");
  const double wall_us = static_cast<double>(now_ns() - started_ns_) / 1e3;
  running_ = false;
  std::shared_ptr<profiler::ProfilerResult> result = profiler::disableProfiler();
  auto ops = fold(result->events());
  return OpProfile(std::move(ops), wall_us, std::move(result));
}

}  // namespace torchzoo::train
