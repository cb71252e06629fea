// SPDX-License-Identifier: Apache-2.0 OR MIT
// Store buffering under relacy, with asymfence's barriers reached the way a
// user reaches them: relacy first, then <asymfence/relacy.hpp>.
//
//     thread 0: x = 1; barrier; r0 = y;      thread 1: y = 1; barrier; r1 = x;
//
// The outcome r0 == 0 && r1 == 0 is forbidden when a light/heavy (or
// heavy/heavy) pair separates the accesses. The controls leave one barrier
// out, or ignore a try_heavy() that did not run, and relacy must find the
// forbidden outcome.
#include <relacy/relacy.hpp>

#include <asymfence/relacy.hpp>

#include "model_check.hpp"

namespace {

enum class barrier {
  nothing,
  light,
  heavy,
  try_heavy,             // ordered only when it returns true
  polled_heavy,          // start_heavy(), then up to two polls: ordered when one says done
  p1202_light_seq_cst,   // asymmetric_thread_fence_light(seq_cst)
  p1202_heavy_seq_cst,   // asymmetric_thread_fence_heavy(seq_cst)
  p1202_light_relaxed,   // has no effect
};

// Runs `b`; returns whether it ordered anything.
bool run_barrier(barrier b) {
  switch (b) {
    case barrier::nothing: return false;
    case barrier::light: asymfence::light(); return true;
    case barrier::heavy: asymfence::heavy(); return true;
    case barrier::try_heavy: return asymfence::try_heavy();
    case barrier::polled_heavy: {
      const asymfence::heavy_ticket ticket = asymfence::start_heavy();
      return asymfence::heavy_completed(ticket) || asymfence::heavy_completed(ticket);
    }
    case barrier::p1202_light_seq_cst:
      asymfence::asymmetric_thread_fence_light(rl::memory_order_seq_cst);
      return true;
    case barrier::p1202_heavy_seq_cst:
      asymfence::asymmetric_thread_fence_heavy(rl::memory_order_seq_cst);
      return true;
    case barrier::p1202_light_relaxed:
      asymfence::asymmetric_thread_fence_light(rl::memory_order_relaxed);
      return false;
  }
  return false;
}

enum class check { always, when_both_barriers_ran };

// Where the polled side makes its access: the store between start_heavy()
// and the completed poll, or the load there. Neither is ordered by the
// barrier, and relacy must find the forbidden outcome for both.
enum class inside_poll { store, load };
template <inside_poll what>
struct access_between_polls : rl::test_suite<access_between_polls<what>, 2> {
  rl::atomic<int> x, y;
  int seen[2];
  bool completed;
  void before() {
    x.store(0, rl::memory_order_relaxed);
    y.store(0, rl::memory_order_relaxed);
  }
  void thread(unsigned index) {
    rl::atomic<int>& mine = index == 0 ? x : y;
    rl::atomic<int>& other = index == 0 ? y : x;
    if (index == 0) {
      mine.store(1, rl::memory_order_relaxed);
      asymfence::light();
      seen[0] = other.load(rl::memory_order_relaxed);
      return;
    }
    if (what == inside_poll::load) mine.store(1, rl::memory_order_relaxed);
    const asymfence::heavy_ticket ticket = asymfence::start_heavy();
    if (what == inside_poll::store) {
      mine.store(1, rl::memory_order_relaxed);
    } else {
      seen[1] = other.load(rl::memory_order_relaxed);
    }
    // Two polls at most (an unbounded loop livelocks the full search); the
    // outcome is judged only when one said done.
    completed = asymfence::heavy_completed(ticket) || asymfence::heavy_completed(ticket);
    if (what == inside_poll::store) seen[1] = other.load(rl::memory_order_relaxed);
  }
  void after() { RL_ASSERT(!(completed && seen[0] == 0 && seen[1] == 0)); }
};

template <barrier first, barrier second, check when = check::always>
struct store_buffering : rl::test_suite<store_buffering<first, second, when>, 2> {
  rl::atomic<int> x, y;
  int seen[2];
  bool ordered[2];

  void before() {
    x.store(0, rl::memory_order_relaxed);
    y.store(0, rl::memory_order_relaxed);
  }

  void thread(unsigned index) {
    rl::atomic<int>& mine = index == 0 ? x : y;
    rl::atomic<int>& other = index == 0 ? y : x;
    mine.store(1, rl::memory_order_relaxed);
    ordered[index] = run_barrier(index == 0 ? first : second);
    seen[index] = other.load(rl::memory_order_relaxed);
  }

  void after() {
    if (when == check::always || (ordered[0] && ordered[1])) {
      RL_ASSERT(!(seen[0] == 0 && seen[1] == 0));
    }
  }
};

constexpr rl::test_result_e holds = rl::test_result_success;
constexpr rl::test_result_e violated = rl::test_result_user_assert_failed;

using asymfence::model_check::make_case;
const asymfence::model_check::model_case cases[] = {
    make_case<store_buffering<barrier::light, barrier::heavy>>("light_heavy", holds),
    make_case<store_buffering<barrier::heavy, barrier::heavy>>("heavy_heavy", holds),
    make_case<store_buffering<barrier::light, barrier::try_heavy, check::when_both_barriers_ran>>(
        "light_try_heavy", holds),
    make_case<store_buffering<barrier::p1202_light_seq_cst, barrier::p1202_heavy_seq_cst>>(
        "p1202_light_heavy", holds),
    make_case<store_buffering<barrier::light, barrier::polled_heavy, check::when_both_barriers_ran>>(
        "light_polled_heavy", holds),
    // Controls: relacy must find r0 == r1 == 0.
    make_case<store_buffering<barrier::light, barrier::nothing>>("control_light_nothing",
                                                                  violated),
    make_case<store_buffering<barrier::nothing, barrier::heavy>>("control_nothing_heavy",
                                                                  violated),
    make_case<store_buffering<barrier::light, barrier::try_heavy>>(
        "control_light_try_heavy_unchecked", violated),
    make_case<store_buffering<barrier::p1202_light_relaxed, barrier::p1202_heavy_seq_cst>>(
        "control_p1202_relaxed_light_heavy", violated),
    make_case<store_buffering<barrier::light, barrier::polled_heavy>>(
        "control_light_polled_heavy_unchecked", violated),
    make_case<access_between_polls<inside_poll::store>>("control_store_between_polls", violated),
    make_case<access_between_polls<inside_poll::load>>("control_load_between_polls", violated),
};

}  // namespace

int main(int argc, char** argv) {
  using namespace asymfence::model_check;
  return run_model_case(argc, argv, cases, {full_search(), random_search(100000)});
}
