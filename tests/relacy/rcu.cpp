// SPDX-License-Identifier: Apache-2.0 OR MIT
// The handshake between RCU's read side and its grace period
// (include/asymfence/rcu.hpp, src/primitives/rcu.cpp) under relacy.
//
//   reader (two sections):  counter = odd; light(); p = current; read *p;
//                           counter = even (release)          -- twice
//   updater:                current = fresh; heavy(); c = counter (acquire);
//                           if c is odd: wait until counter != c (acquire);
//                           reclaim *old (a plain write, as free() would)
//
// Relacy reports a data race if a read of the old object is not ordered
// before the reclaiming write. Controls: without heavy() the scan can miss a
// section that reads the old object (store buffering); with a relaxed store
// in unlock (no release/acquire) a single heavy() no longer orders the
// section's reads before the reclaim.
// relacy must come first.
// clang-format off
#include <relacy/relacy.hpp>
#include <asymfence/relacy.hpp>
// clang-format on

#include "model_check.hpp"

namespace {

enum class variant { real, no_heavy, relaxed_unlock };

template <variant v>
struct rcu_handshake : rl::test_suite<rcu_handshake<v>, 2> {
  struct object {
    rl::var<int> value;
  };
  object objects[2];
  rl::atomic<object*> current;
  rl::atomic<unsigned> counter;

  void before() {
    objects[0].value($) = 1;
    objects[1].value($) = 1;
    current.store(&objects[0], rl::memory_order_relaxed);
    counter.store(0, rl::memory_order_relaxed);
  }

  void reader() {
    unsigned c = 0;
    for (int section = 0; section < 2; ++section) {
      counter.store(++c, rl::memory_order_relaxed);  // lock(): odd
      asymfence::light();                            // A
      object* p = current.load(rl::memory_order_acquire);
      RL_ASSERT(p->value($) == 1);  // not reclaimed
      if (v == variant::relaxed_unlock) {
        counter.store(++c, rl::memory_order_relaxed);  // unlock() without release
      } else {
        counter.store(++c, rl::memory_order_release);  // unlock()
      }
    }
  }

  void updater() {
    object* old = current.load(rl::memory_order_relaxed);
    current.store(&objects[1], rl::memory_order_release);
    if (v != variant::no_heavy) asymfence::heavy();  // B
    const unsigned seen = counter.load(rl::memory_order_acquire);
    if (seen % 2 == 1) {
      while (counter.load(rl::memory_order_acquire) == seen) rl::yield(1, $);
    }
    old->value($) = 0;  // reclaimed
  }

  void thread(unsigned index) {
    if (index == 0) {
      reader();
    } else {
      updater();
    }
  }
};

constexpr rl::test_result_e holds = rl::test_result_success;
constexpr rl::test_result_e race = rl::test_result_data_race;

using asymfence::model_check::make_case;
const asymfence::model_check::model_case cases[] = {
    make_case<rcu_handshake<variant::real>>("one_heavy_release_acquire", holds),
    make_case<rcu_handshake<variant::no_heavy>>("control_no_heavy", race),
    make_case<rcu_handshake<variant::relaxed_unlock>>("control_relaxed_unlock", race),
};

}  // namespace

int main(int argc, char** argv) {
  using namespace asymfence::model_check;
  return run_model_case(argc, argv, cases, {full_search(), random_search(100000)});
}
