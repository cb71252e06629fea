// Concurrent slow paths: 1 to 16 threads calling heavy() in a loop, beside
// the same threads each making the raw system call (one per call, what other
// libraries do). heavy() lets callers that arrive while a barrier is in
// flight share the next one; calls_per_barrier says how many did.
#include <cstdio>
#include <string>

#include "benchmark_runner.hpp"
#include "workloads.hpp"

namespace asymfence::bench {
namespace {

void configure(benchmark::internal::Benchmark* b) {
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
  for (int callers : {1, 2, 4, 8, 16}) b->Threads(callers);
}

void concurrent_heavy(benchmark::State& state) {
  // Thread 0 reads the counters outside the loop, where the start and stop
  // barriers of the loop keep the other threads from calling heavy().
  statistics before{};
  if (state.thread_index() == 0) before = stats();
  for (auto _ : state) heavy();
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    statistics after = stats();
    std::uint64_t barriers = after.barriers_issued - before.barriers_issued;
    if (barriers == 0) {
      fail(state, "heavy() issued no barrier");
      return;
    }
    state.counters["calls_per_barrier"] =
        static_cast<double>(after.heavy_calls - before.heavy_calls) / barriers;
    state.SetLabel(to_string(active_strategy()));
  }
}

void concurrent_raw(benchmark::State& state, const raw_mechanism* m) {
  for (auto _ : state) {
    if (m->issue() != 0) {
      fail(state, "the raw mechanism failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) state.SetLabel(to_string(m->id));
}

// Registers the pair for the strategy heavy() selected; false if it cannot.
bool register_benchmarks() {
  strategy selected = active_strategy();
  const raw_mechanism* raw = find_raw_mechanism(selected);
  std::string why = "no raw form of this strategy";
  if (raw == nullptr || !raw->prepare(why)) {
    std::fprintf(stderr, "concurrent benchmark: heavy() uses %s, which cannot be run raw: %s\n",
                 to_string(selected), why.c_str());
    return false;
  }
  configure(benchmark::RegisterBenchmark("concurrent/heavy", concurrent_heavy));
  configure(benchmark::RegisterBenchmark("concurrent/raw", concurrent_raw, raw));
  return true;
}

}  // namespace
}  // namespace asymfence::bench

int main(int argc, char** argv) {
  return asymfence::bench::run_benchmarks(argc, argv, asymfence::bench::register_benchmarks);
}
