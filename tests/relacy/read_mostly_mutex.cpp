// SPDX-License-Identifier: Apache-2.0 OR MIT
// The read_mostly_mutex handshake under relacy (the protocol of
// include/asymfence/read_mostly_mutex.hpp and src/primitives/read_mostly_mutex.cpp,
// written with relacy's atomics). A slot reader publishes its slot, runs
// light() and checks the writer's flag; a counted reader increments the count
// and checks the flag, both seq_cst; the writer raises its flag with a seq_cst
// read-modify-write, runs heavy(), and waits for the slot and the count. Each
// reader tries twice (a retracted reader waits for the flag to go down, as a
// blocked one does). Relacy reports a data race on `data` if a reader and the
// writer can be inside at once. The controls leave out the writer's heavy()
// or the reader's light(), and relacy must report the race.
#include <relacy/relacy.hpp>
// relacy first: <asymfence/relacy.hpp> models the barriers with it.
#include <asymfence/relacy.hpp>

#include "model_check.hpp"

namespace {

enum class variant { real, writer_without_heavy, reader_without_light };

template <variant v>
struct handshake : rl::test_suite<handshake<v>, 3> {
  rl::atomic<unsigned> state;    // odd while the writer's flag is up
  rl::atomic<int> slot;          // the slot reader's record: 1 while it holds the mutex
  rl::atomic<unsigned> counted;  // counted holds
  rl::var<int> data;             // guarded by the mutex

  void before() {
    state.store(0, rl::memory_order_relaxed);
    slot.store(0, rl::memory_order_relaxed);
    counted.store(0, rl::memory_order_relaxed);
    data($) = 0;
  }

  void wait_for_flag_down() {
    while (state.load(rl::memory_order_acquire) & 1u) rl::yield(1, $);
  }

  void slot_reader() {
    for (int attempt = 0; attempt < 2; ++attempt) {
      slot.store(1, rl::memory_order_relaxed);
      if (v != variant::reader_without_light) asymfence::light();  // A: pairs with B
      if ((state.load(rl::memory_order_acquire) & 1u) == 0) {
        (void)data($).load();
        slot.store(0, rl::memory_order_release);  // unlock_shared
        return;
      }
      slot.store(0, rl::memory_order_release);  // retract
      wait_for_flag_down();
    }
  }

  void counted_reader() {
    for (int attempt = 0; attempt < 2; ++attempt) {
      counted.fetch_add(1, rl::memory_order_seq_cst);
      if ((state.load(rl::memory_order_seq_cst) & 1u) == 0) {
        (void)data($).load();
        counted.fetch_sub(1, rl::memory_order_release);
        return;
      }
      counted.fetch_sub(1, rl::memory_order_release);
      wait_for_flag_down();
    }
  }

  void writer() {
    state.fetch_add(1, rl::memory_order_seq_cst);                // raise the flag
    if (v != variant::writer_without_heavy) asymfence::heavy();  // B: pairs with A
    while (slot.load(rl::memory_order_acquire) != 0) rl::yield(1, $);
    // seq_cst: store buffering against the counted reader's two seq_cst
    // accesses (relacy does not derive it from the fence alone).
    while (counted.load(rl::memory_order_seq_cst) != 0) rl::yield(1, $);
    data($).store(1);
    state.fetch_add(1, rl::memory_order_seq_cst);  // lower it (unlock)
  }

  void thread(unsigned index) {
    if (index == 0) {
      slot_reader();
    } else if (index == 1) {
      counted_reader();
    } else {
      writer();
    }
  }
};

constexpr rl::test_result_e holds = rl::test_result_success;
constexpr rl::test_result_e races = rl::test_result_data_race;

using asymfence::model_check::make_case;
const asymfence::model_check::model_case cases[] = {
    make_case<handshake<variant::real>>("handshake", holds),
    make_case<handshake<variant::writer_without_heavy>>("control_writer_without_heavy", races),
    make_case<handshake<variant::reader_without_light>>("control_reader_without_light", races),
};

}  // namespace

int main(int argc, char** argv) {
  using namespace asymfence::model_check;
  return run_model_case(argc, argv, cases, {bounded_search(3), random_search(200000)});
}
