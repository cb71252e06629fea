// SPDX-License-Identifier: Apache-2.0 OR MIT
// Concurrent slow paths: 1 to 16 threads calling heavy() in a loop for a fixed
// time, beside the same threads each making the raw system call (one per
// call, what other libraries do). heavy() lets callers that arrive while a
// barrier is in flight share the next one; calls_per_barrier says how many
// did, and slowest_thread_share whether every thread got its turn. Each
// iteration is one run of `run_seconds`; the time reported is its wall time.
#include <cstdio>
#include <string>

#include "benchmark_runner.hpp"
#include "raw_barriers.hpp"
#include "workloads.hpp"

namespace asymfence::bench {
namespace {

constexpr double run_seconds = 0.05;

void concurrent(benchmark::State& state, call_function call, const char* label) {
  const int callers = static_cast<int>(state.range(0));
  std::uint64_t calls = 0;
  double sharing = 0;
  double slowest = 0;
  for (auto _ : state) {
    throughput t = run_concurrently(callers, call, run_seconds);
    if (t.failures != 0) {
      fail(state, "the measured call failed");
      break;
    }
    state.SetIterationTime(t.seconds);
    calls += t.calls;
    sharing += t.calls_per_barrier;
    slowest += t.slowest_thread_share;
  }
  const auto runs = static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(calls));
  if (sharing > 0) state.counters["calls_per_barrier"] = sharing / runs;
  state.counters["slowest_thread_share"] = slowest / runs;
  state.SetLabel(label);
}

void configure(benchmark::internal::Benchmark* b) {
  b->ArgName("callers")->UseManualTime()->Unit(benchmark::kMillisecond);
  for (int callers : {1, 2, 4, 8, 16}) b->Arg(callers);
}

// Registers the pair for the strategy heavy() selected; false if it cannot.
bool register_benchmarks() {
  strategy selected = active_strategy();
  const raw::raw_barrier* raw = raw::raw_barrier_of(selected);
  std::string why = "no raw form of this strategy";
  if (raw == nullptr || !raw::prepare(*raw, why)) {
    std::fprintf(stderr, "concurrent benchmark: heavy() uses %s, which cannot be run raw: %s\n",
                 to_string(selected), why.c_str());
    return false;
  }
  static const std::string label = to_string(selected);
  configure(benchmark::RegisterBenchmark("concurrent/heavy", concurrent, call_heavy,
                                         label.c_str()));
  configure(benchmark::RegisterBenchmark("concurrent/raw", concurrent, raw->issue,
                                         label.c_str()));
  return true;
}

}  // namespace
}  // namespace asymfence::bench

int main(int argc, char** argv) {
  return asymfence::bench::run_benchmarks(argc, argv, asymfence::bench::register_benchmarks);
}
