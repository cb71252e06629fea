// SPDX-License-Identifier: Apache-2.0 OR MIT
// A worker's fast path and a controller that needs exclusive access (the
// shape of a GC safepoint or a biased lock's revocation), checked by relacy.
//
// The worker announces itself with light() only; the controller raises
// `stop` and calls heavy(), then waits for the worker to leave. Relacy
// reports a data race on `shared` if both can be inside at once.
#include <relacy/relacy.hpp>

#include <asymfence/relacy.hpp>

struct safepoint : rl::test_suite<safepoint, 2> {
  rl::atomic<bool> stop;
  rl::atomic<bool> busy;
  rl::var<int> shared;  // plain data, touched by one side at a time

  void before() {
    stop.store(false, rl::memory_order_relaxed);
    busy.store(false, rl::memory_order_relaxed);
    shared($) = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {  // the worker, many times a second in real code
      busy.store(true, rl::memory_order_relaxed);
      asymfence::light();  // A: pairs with B
      if (!stop.load(rl::memory_order_relaxed)) shared($) += 1;
      busy.store(false, rl::memory_order_release);
    } else {  // the controller, rarely
      stop.store(true, rl::memory_order_relaxed);
      asymfence::heavy();  // B: pairs with A
      while (busy.load(rl::memory_order_acquire)) rl::yield(1, $);
      shared($) += 10;
    }
  }
};

int main() {
  rl::test_params params;
  params.search_type = rl::sched_bound;  // every execution with up to 3 preemptions
  params.context_bound = 3;
  return rl::simulate<safepoint>(params) ? 0 : 1;
}
