// SPDX-License-Identifier: Apache-2.0 OR MIT
// The fast path: a hazard-pointer protect with each kind of barrier. Built
// twice: against the default library (light() emits no instruction) and
// against the checked-light library (light() loads a flag), where only the
// light variant is registered.
#include <benchmark/benchmark.h>

#include <string>

#include "workloads.hpp"

namespace asymfence::bench {
namespace {

template <class Barrier>
void protect_loop(benchmark::State& state) {
  protect_site site;
  for (auto _ : state) protect(site, Barrier{});
  state.SetItemsProcessed(state.iterations());
}

template <class Barrier>
int register_protect_loop() {
  benchmark::RegisterBenchmark((std::string("protect_loop/") + Barrier::name).c_str(),
                               protect_loop<Barrier>);
  return 0;
}

// The checked-light program measures only its light(); the default program
// measures it beside the other barriers.
#if !ASYMFENCE_CHECKED_LIGHT
const int registered = (register_protect_loop<no_barrier>(),
                        register_protect_loop<compiler_barrier>(),
                        register_protect_loop<light_barrier>(),
                        register_protect_loop<seq_cst_fence>());
#else
const int registered = register_protect_loop<light_barrier>();
#endif

}  // namespace
}  // namespace asymfence::bench

BENCHMARK_MAIN();
