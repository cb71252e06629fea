// The fast path: a hazard-pointer protect with each kind of barrier. Built
// twice: against the default library (light() emits no instruction) and
// against the checked-light library (light() loads a flag), where only the
// light variant is registered.
#include <benchmark/benchmark.h>

#include "workloads.hpp"

namespace asymfence::bench {
namespace {

template <class Barrier>
void protect_loop(benchmark::State& state) {
  protect_site site;
  for (auto _ : state) protect(site, Barrier{});
  state.SetItemsProcessed(state.iterations());
}

#if !ASYMFENCE_CHECKED_LIGHT
BENCHMARK_TEMPLATE(protect_loop, no_barrier)->Name("protect_loop/no_barrier");
BENCHMARK_TEMPLATE(protect_loop, compiler_barrier)->Name("protect_loop/compiler_barrier");
#endif
BENCHMARK_TEMPLATE(protect_loop, light_barrier)
    ->Name(std::string("protect_loop/") + light_barrier::name);
#if !ASYMFENCE_CHECKED_LIGHT
BENCHMARK_TEMPLATE(protect_loop, seq_cst_fence)->Name("protect_loop/seq_cst_fence");
#endif

}  // namespace
}  // namespace asymfence::bench

BENCHMARK_MAIN();
