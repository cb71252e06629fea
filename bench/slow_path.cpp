// SPDX-License-Identifier: Apache-2.0 OR MIT
// The slow path: heavy() latency under each strategy usable here, beside the
// raw mechanism called directly, with 0, 1 and several other threads spinning
// (an expedited barrier must interrupt every CPU running one of them).
#include <string>

#include "benchmark_runner.hpp"
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
  std::string why;
  if (!force_strategy(s, why)) {
    fail(state, why);
    return;
  }
  statistics before = stats();
  spinning_threads others(static_cast<int>(state.range(0)));
  for (auto _ : state) heavy();
  report_spinners(state, others.stop());
  statistics after = stats();
  bool switched = active_strategy() != s;
  restore_automatic_strategy();
  // Proof that the strategy measured is the one named: every call completed
  // through it, and issued its own barrier (the fence strategy issues none).
  const auto calls = static_cast<std::uint64_t>(state.iterations());
  bool counted = after.heavy_calls - before.heavy_calls == calls &&
                 (s == strategy::fence || after.barriers_issued - before.barriers_issued == calls);
  if (switched || !counted) {
    fail(state, "heavy() did not complete one call per barrier with the forced strategy");
  }
}

void raw_latency(benchmark::State& state, const raw_mechanism* m) {
  std::string why;
  if (!m->prepare(why)) {
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

void configure(benchmark::internal::Benchmark* b, strategy s) {
  b->ArgName("spinning")->UseRealTime()->Unit(benchmark::kMicrosecond);
  for (int n : spinning_counts) b->Arg(n);
  if (takes_milliseconds(s)) b->Iterations(grace_period_iterations);
}

bool register_benchmarks() {
  for (strategy s : usable_strategies()) {
    std::string name = to_string(s);
    configure(benchmark::RegisterBenchmark(("heavy/" + name).c_str(), heavy_latency, s), s);
    if (const raw_mechanism* raw = find_raw_mechanism(s)) {
      configure(benchmark::RegisterBenchmark(("raw/" + name).c_str(), raw_latency, raw), s);
    }
  }
  return true;
}

}  // namespace
}  // namespace asymfence::bench

int main(int argc, char** argv) {
  return asymfence::bench::run_benchmarks(argc, argv, asymfence::bench::register_benchmarks);
}
