// SPDX-License-Identifier: Apache-2.0 OR MIT
// Single writer, several readers, under relacy, with asymfence's barriers
// reached through the macro route: ASYMFENCE_RELACY=1 (set by the build) and
// the ordinary <asymfence/asymfence.hpp>, as code under test includes it.
//
// The writer publishes a new object, waits until no reader protects the old
// one, and reclaims it; each reader protects the object it reads the way
// hazard pointers do, with light() on its path:
//
//     reader: hazard = p; light();   /* A */ if (current != p) retry; read *p; hazard = null
//     writer: current = fresh; heavy(); /* B */ wait while any hazard == old; reclaim *old
//
// A and B forbid the store-buffering outcome in which the reader misses the
// new object while the writer misses the hazard. Reclaiming is modelled as a
// write into the old object (what reuse or free would do), so relacy's
// happens-before race detection catches a reader that still uses it, in
// whichever interleaving it happens. The controls leave A or B out, and
// relacy must report that data race.
#include <relacy/relacy.hpp>

#include <asymfence/asymfence.hpp>

#include "model_check.hpp"

static_assert(ASYMFENCE_RELACY, "this test needs the model-checking mode");

namespace {

constexpr unsigned reader_count = 2;
constexpr int reclaimed = -1;

struct object {
  rl::var<int> version;  // plain data: relacy checks every access to it
};

template <bool reader_light, bool writer_heavy>
struct publish : rl::test_suite<publish<reader_light, writer_heavy>, 1 + reader_count> {
  object first, second;
  rl::atomic<object*> current;
  rl::atomic<object*> hazard[reader_count];

  void before() {
    first.version($) = 1;
    current.store(&first, rl::memory_order_relaxed);
    for (auto& slot : hazard) slot.store(nullptr, rl::memory_order_relaxed);
  }

  void thread(unsigned index) {
    if (index == 0) {
      write();
    } else {
      read(hazard[index - 1]);
    }
  }

  void write() {
    object* old = current.load(rl::memory_order_relaxed);  // only this thread stores it
    second.version($) = 2;
    current.store(&second, rl::memory_order_release);
    if (writer_heavy) asymfence::heavy();  // B: pairs with A
    for (auto& slot : hazard) {
      while (slot.load(rl::memory_order_acquire) == old) rl::yield(1, $);
    }
    old->version($) = reclaimed;
  }

  void read(rl::atomic<object*>& slot) {
    object* seen = current.load(rl::memory_order_relaxed);
    for (;;) {
      slot.store(seen, rl::memory_order_relaxed);
      if (reader_light) asymfence::light();  // A: pairs with B
      object* now = current.load(rl::memory_order_acquire);
      if (now == seen) break;
      seen = now;
    }
    const int version = seen->version($);
    RL_ASSERT(version == 1 || version == 2);
    slot.store(nullptr, rl::memory_order_release);
  }
};

using asymfence::model_check::make_case;
const asymfence::model_check::model_case cases[] = {
    make_case<publish<true, true>>("light_heavy", rl::test_result_success),
    // Controls: a reader still reads the old object when the writer reclaims it.
    make_case<publish<false, true>>("control_reader_without_light", rl::test_result_data_race),
    make_case<publish<true, false>>("control_writer_without_heavy", rl::test_result_data_race),
};

}  // namespace

int main(int argc, char** argv) {
  using namespace asymfence::model_check;
  return run_model_case(argc, argv, cases, {bounded_search(3), random_search(200000)});
}
