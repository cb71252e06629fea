// SPDX-License-Identifier: Apache-2.0 OR MIT
// The slow path: heavy() latency under the strategy in force, beside its raw
// mechanism called directly, with 0, 1 and several other threads spinning (an
// expedited barrier must interrupt every CPU running one of them). A process
// selects its strategy once, so each strategy is measured in a run of its own
// with ASYMFENCE_STRATEGY=<name>; --list-strategies prints the usable ones.
#include <cstdio>
#include <cstring>
#include <string>

#include "benchmark_runner.hpp"
#include "raw_barriers.hpp"
#include "workloads.hpp"

namespace asymfence::bench {
namespace {

constexpr int spinning_counts[] = {0, 1, 3};
constexpr int grace_period_iterations = 10;

// How much of the time the spinners were on a CPU: below 1 on a busy machine,
// where a barrier then often has fewer CPUs to interrupt.
void report_spinners(benchmark::State& state, double on_cpu_share) {
  if (state.range(0) > 0) state.counters["spinners_on_cpu"] = on_cpu_share;
}

void heavy_latency(benchmark::State& state, strategy s) {
  statistics before = stats();
  spinning_threads others(static_cast<int>(state.range(0)));
  for (auto _ : state) heavy();
  report_spinners(state, others.stop());
  statistics after = stats();
  bool switched = active_strategy() != s;
  // Proof that the strategy measured is the one named: every call completed
  // through it, and issued its own barrier (the fence strategy issues none).
  const auto calls = static_cast<std::uint64_t>(state.iterations());
  bool counted = after.heavy_calls - before.heavy_calls == calls &&
                 (s == strategy::fence || after.barriers_issued - before.barriers_issued == calls);
  if (switched || !counted) {
    fail(state, "heavy() did not complete one call per barrier under the strategy in force");
  }
}

void raw_latency(benchmark::State& state, const raw::raw_barrier* m) {
  std::string why;
  if (!raw::prepare(*m, why)) {
    fail(state, why);
    return;
  }
  spinning_threads others(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    if (m->issue() != 0) {
      fail(state, "the raw mechanism failed");
      break;
    }
  }
  report_spinners(state, others.stop());
}

void configure(benchmark::internal::Benchmark* b, bool slow) {
  b->ArgName("spinning")->UseRealTime()->Unit(benchmark::kMicrosecond);
  for (int n : spinning_counts) b->Arg(n);
  if (slow) b->Iterations(grace_period_iterations);
}

// Registers heavy() under the strategy in force and its raw mechanism; false
// where the library has no sound strategy (a refused ASYMFENCE_STRATEGY).
bool register_benchmarks() {
  if (init_result r = init(); !r) {
    std::fprintf(stderr, "slow-path benchmark: %s\n", r.message);
    return false;
  }
  const strategy s = active_strategy();
  const std::string name = to_string(s);
  const raw::raw_barrier* raw = raw::raw_barrier_of(s);
  const bool slow = raw != nullptr && raw->slow;
  configure(benchmark::RegisterBenchmark(("heavy/" + name).c_str(), heavy_latency, s), slow);
  if (raw != nullptr) {
    configure(benchmark::RegisterBenchmark(("raw/" + name).c_str(), raw_latency, raw), slow);
  }
  return true;
}

}  // namespace
}  // namespace asymfence::bench

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--list-strategies") == 0) {
    for (asymfence::strategy s : asymfence::bench::usable_strategies()) {
      std::printf("%s\n", asymfence::to_string(s));
    }
    return 0;
  }
  return asymfence::bench::run_benchmarks(argc, argv, asymfence::bench::register_benchmarks);
}
