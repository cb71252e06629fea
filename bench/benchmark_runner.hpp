// SPDX-License-Identifier: Apache-2.0 OR MIT
// The main() of the benchmark programs that register at run time. A benchmark
// that cannot measure what its name says calls fail(), which makes the program
// exit with status 1 so that the smoke run in ctest fails; timings themselves
// are never judged.
#ifndef ASYMFENCE_BENCH_BENCHMARK_RUNNER_HPP
#define ASYMFENCE_BENCH_BENCHMARK_RUNNER_HPP

#include <benchmark/benchmark.h>

#include <atomic>
#include <string>

namespace asymfence::bench {

inline std::atomic<bool> any_failure{false};

inline void fail(benchmark::State& state, const std::string& why) {
  any_failure.store(true);
  state.SkipWithError(why.c_str());
}

// Registers with register_benchmarks() (false: nothing can run here, status 1),
// runs what the command line selects, and returns the exit status.
inline int run_benchmarks(int argc, char** argv, bool (*register_benchmarks)()) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (!register_benchmarks()) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return any_failure.load() ? 1 : 0;
}

}  // namespace asymfence::bench

#endif
