// SPDX-License-Identifier: Apache-2.0 OR MIT
// Sharing heavy barriers between concurrent callers (issue 4). A caller may
// return on a barrier issued by another thread only if that barrier started
// after the caller arrived. Three checks:
// - a store-buffering litmus with several heavy callers per light thread:
//   0 forbidden, a control that shows violations, and proof that barriers
//   were shared (fewer barriers than heavy calls);
// - the sharing rule itself, checked deterministically through the seam, with
//   a deliberately wrong heavy() that the same check must catch;
// - try_heavy(): false at once while another caller's barrier is in flight,
//   true when idle;
// - the polling form (start_heavy(), heavy_completed()): the same rule, and a
//   bound on the polls a ticket needs under sustained heavy() load, which
//   try_heavy() in its place (the control) exceeds.
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "emulator.hpp"
#include "forced_strategy.hpp"
#include "mechanism_barriers.hpp"
#include "os_seam.hpp"
#include "store_buffering.hpp"

namespace {

using asymfence::strategy;
using asymfence::litmus::barrier_function;

constexpr int cmd_private_expedited = 1 << 3;

// ---------------------------------------------------------------------------
// The litmus: groups of one light thread and several heavy threads. With two
// CPUs, group 0's light thread runs on CPU 0 and its heavy threads on CPU 1;
// group 1 the other way round. So each light thread overlaps with heavy
// callers of its own group (the store-buffering race), and heavy callers of
// the two groups overlap with each other (so that barriers are shared).
// In iteration i the light thread of group g stores x[g] = i, runs light()
// and loads every y[g][k]; heavy thread k stores y[g][k] = i, runs its heavy
// side and loads x[g]. Forbidden for a pair: each missed the other's store.

struct alignas(64) padded_word {
  std::atomic<std::uint64_t> value{0};
};

struct group_layout {
  int groups;
  int heavy_per_group;
  int threads() const { return groups * (heavy_per_group + 1); }
};

struct shared_outcome {
  std::uint64_t iterations = 0;
  std::uint64_t forbidden = 0;  // summed over every (light, heavy) pair
};

// Waits for all threads to arrive in iteration i. Threads outnumber CPUs,
// so waiters yield rather than spin away the time slice a late thread needs.
void arrive_and_wait(padded_word& arrivals, std::uint64_t expected) {
  arrivals.value.fetch_add(1, std::memory_order_acq_rel);
  while (arrivals.value.load(std::memory_order_acquire) < expected) std::this_thread::yield();
}

shared_outcome run_shared_store_buffering(group_layout layout, std::uint64_t iterations,
                                          barrier_function heavy_side) {
  const int pairs = layout.groups * layout.heavy_per_group;
  std::vector<padded_word> x(layout.groups);
  std::vector<padded_word> y(pairs);
  padded_word arrivals;
  // missed_by_light[p][i]: the light thread of pair p loaded y < i+1; likewise heavy.
  std::vector<std::vector<std::uint8_t>> missed_by_light(pairs,
                                                         std::vector<std::uint8_t>(iterations));
  std::vector<std::vector<std::uint8_t>> missed_by_heavy(pairs,
                                                         std::vector<std::uint8_t>(iterations));
  const std::uint64_t everyone = static_cast<std::uint64_t>(layout.threads());

  std::vector<std::thread> threads;
  for (int g = 0; g < layout.groups; ++g) {
    threads.emplace_back([&, g] {
      asymfence::litmus::pin_to_nth_allowed_cpu(g % 2);
      const int first_pair = g * layout.heavy_per_group;
      for (std::uint64_t i = 1; i <= iterations; ++i) {
        arrive_and_wait(arrivals, everyone * i);
        x[g].value.store(i, std::memory_order_relaxed);
        asymfence::light();
        for (int k = 0; k < layout.heavy_per_group; ++k) {
          missed_by_light[first_pair + k][i - 1] =
              y[first_pair + k].value.load(std::memory_order_relaxed) < i;
        }
      }
    });
    for (int k = 0; k < layout.heavy_per_group; ++k) {
      const int pair = g * layout.heavy_per_group + k;
      threads.emplace_back([&, g, pair] {
        asymfence::litmus::pin_to_nth_allowed_cpu((g + 1) % 2);
        for (std::uint64_t i = 1; i <= iterations; ++i) {
          arrive_and_wait(arrivals, everyone * i);
          y[pair].value.store(i, std::memory_order_relaxed);
          heavy_side();
          missed_by_heavy[pair][i - 1] = x[g].value.load(std::memory_order_relaxed) < i;
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();

  shared_outcome result;
  result.iterations = iterations;
  for (int p = 0; p < pairs; ++p) {
    for (std::uint64_t i = 0; i < iterations; ++i) {
      if (missed_by_light[p][i] && missed_by_heavy[p][i]) ++result.forbidden;
    }
  }
  return result;
}

constexpr group_layout litmus_layout{2, 3};
constexpr std::uint64_t litmus_iterations = 100'000;

TEST(Sharing, ConcurrentHeavyCallersEachPairedWithALightThread) {
  if (ASYMFENCE_TSAN) {
    GTEST_SKIP() << "built with ThreadSanitizer: light() is a real fence, so the control "
                    "cannot fail";
  }
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs two CPUs";
  ASYMFENCE_SKIP_UNDER_EMULATOR("the threads run with the host's memory order");
  asymfence::test::scoped_override automatic(nullptr);
  const strategy s = automatic.selected();
  ASSERT_NE(s, strategy::none) << automatic.message();
  if (s == strategy::fence || asymfence::selection().platform_warning[0] != '\0') {
    GTEST_SKIP() << asymfence::to_string(s) << " is not tested by litmus here";
  }
  asymfence::test::install_counting_seam();
  asymfence::test::counts().reset();

  const asymfence::statistics before = asymfence::stats();
  const shared_outcome real = run_shared_store_buffering(litmus_layout, litmus_iterations,
                                                         asymfence::litmus::heavy_barrier);
  const asymfence::statistics after = asymfence::stats();
  const std::uint64_t heavy_calls = after.heavy_calls - before.heavy_calls;
  const std::uint64_t barriers = after.barriers_issued - before.barriers_issued;

  int attempts = 0;
  const shared_outcome control = asymfence::litmus::repeat_until_forbidden(
      [&] {
        return run_shared_store_buffering(litmus_layout, litmus_iterations,
                                          asymfence::litmus::seq_cst_fence);
      },
      asymfence::litmus::control_patience_seconds, &attempts);
  std::printf(
      "[ sharing  ] %s, %d groups of 1 light + %d heavy threads, %llu iterations: "
      "%llu forbidden; control %llu forbidden (attempt %d); %llu heavy calls, %llu barriers "
      "(%.2f calls per barrier), %llu by the mechanism\n",
      asymfence::to_string(s), litmus_layout.groups, litmus_layout.heavy_per_group,
      static_cast<unsigned long long>(real.iterations),
      static_cast<unsigned long long>(real.forbidden),
      static_cast<unsigned long long>(control.forbidden), attempts,
      static_cast<unsigned long long>(heavy_calls), static_cast<unsigned long long>(barriers),
      barriers == 0 ? 0.0 : static_cast<double>(heavy_calls) / barriers,
      static_cast<unsigned long long>(asymfence::test::mechanism_barriers(s)));

  EXPECT_EQ(real.forbidden, 0u);
  EXPECT_GT(control.forbidden, 0u) << "the control never showed the forbidden outcome";
  EXPECT_EQ(heavy_calls, litmus_iterations * litmus_layout.groups * litmus_layout.heavy_per_group);
  EXPECT_LT(barriers, heavy_calls) << "no barrier was shared";
  EXPECT_GE(asymfence::test::mechanism_barriers(s), barriers)
      << "the mechanism issued fewer barriers than the library counted";
}

// ---------------------------------------------------------------------------
// The sharing rule through the seam: PRIVATE_EXPEDITED wrapped by a fake that
// numbers the barriers it starts and completes (still issuing the real one),
// and sleeps a little inside so that callers pile up behind it. A caller that
// read `started` == n on arrival needs barrier n+1 (the first that may have
// begun after its arrival) to have completed when it returns.

struct barrier_log {
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<bool> hold{false};     // while true, a started barrier does not complete
  std::atomic<bool> holding{false};  // a barrier is being held
  std::chrono::microseconds duration{0};
};
barrier_log logged;
asymfence::detail::os_seam before_logging;

long logging_membarrier(int cmd, unsigned flags, int cpu_id) noexcept {
  if (cmd != cmd_private_expedited) return before_logging.membarrier(cmd, flags, cpu_id);
  logged.started.fetch_add(1, std::memory_order_seq_cst);
  long result = before_logging.membarrier(cmd, flags, cpu_id);
  if (logged.duration.count() > 0) std::this_thread::sleep_for(logged.duration);
  while (logged.hold.load()) {
    logged.holding.store(true);
    std::this_thread::yield();
  }
  logged.holding.store(false);
  logged.completed.fetch_add(1, std::memory_order_seq_cst);
  return result;
}

// Forces PRIVATE_EXPEDITED and puts the logging fake in front of it.
class SharingRule : public ::testing::Test {
 protected:
  void SetUp() override {
    forced_ = std::make_unique<asymfence::test::scoped_override>(
        asymfence::to_string(strategy::membarrier_private_expedited));
    if (forced_->selected() != strategy::membarrier_private_expedited) {
      GTEST_SKIP() << "membarrier_private_expedited is not usable here: " << forced_->message();
    }
    logged.started = 0;
    logged.completed = 0;
    logged.hold = false;
    logged.duration = std::chrono::microseconds(30);
    before_logging = asymfence::detail::os;
    asymfence::detail::os.membarrier = logging_membarrier;
  }
  void TearDown() override { forced_.reset(); }  // the real seam and default selection

  std::unique_ptr<asymfence::test::scoped_override> forced_;
};

using heavy_function = bool (*)();  // false: returned without a barrier (try_heavy)

bool real_heavy() {
  asymfence::heavy();
  return true;
}
bool real_try_heavy() { return asymfence::try_heavy(); }
bool polled_heavy() {
  const asymfence::heavy_ticket ticket = asymfence::start_heavy();
  while (!asymfence::heavy_completed(ticket)) std::this_thread::yield();
  return true;
}

// Deliberately wrong: a caller that finds a barrier in flight returns as
// soon as that barrier completes, although it may have started before the
// caller arrived. The check below must catch it.
bool premature_heavy() {
  const std::uint64_t completed = logged.completed.load();
  if (logged.started.load() > completed) {
    while (logged.completed.load() == completed) std::this_thread::yield();
    return true;
  }
  asymfence::heavy();
  return true;
}

struct rule_outcome {
  std::uint64_t calls = 0;       // calls that claimed a barrier
  std::uint64_t violations = 0;  // returned before a barrier begun after arrival completed
};

constexpr int rule_threads = 8;
constexpr int rule_calls_per_thread = 1500;

rule_outcome check_sharing_rule(heavy_function call) {
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> violations{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < rule_threads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < rule_calls_per_thread; ++i) {
        const std::uint64_t started_at_arrival = logged.started.load(std::memory_order_seq_cst);
        if (!call()) continue;
        const std::uint64_t completed_at_return = logged.completed.load(std::memory_order_seq_cst);
        calls.fetch_add(1, std::memory_order_relaxed);
        if (completed_at_return < started_at_arrival + 1) {
          violations.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return {calls.load(), violations.load()};
}

TEST_F(SharingRule, HeavyReturnsOnlyAfterABarrierThatBeganAfterItsArrival) {
  const rule_outcome wrong = check_sharing_rule(premature_heavy);
  const std::uint64_t started_before = logged.started.load();
  const rule_outcome heavy = check_sharing_rule(real_heavy);
  const std::uint64_t barriers = logged.started.load() - started_before;
  std::printf(
      "[ rule     ] heavy(): %llu calls, %llu barriers, %llu violations; deliberately "
      "wrong heavy: %llu calls, %llu violations\n",
      static_cast<unsigned long long>(heavy.calls), static_cast<unsigned long long>(barriers),
      static_cast<unsigned long long>(heavy.violations),
      static_cast<unsigned long long>(wrong.calls),
      static_cast<unsigned long long>(wrong.violations));
  EXPECT_GT(wrong.violations, 0u) << "the check cannot tell a wrong heavy() from a right one";
  EXPECT_EQ(heavy.violations, 0u);
  EXPECT_EQ(heavy.calls, static_cast<std::uint64_t>(rule_threads) * rule_calls_per_thread);
  EXPECT_LT(barriers, heavy.calls) << "no barrier was shared";
}

TEST_F(SharingRule, SuccessfulTryHeavyObeysTheSameRule) {
  const rule_outcome tried = check_sharing_rule(real_try_heavy);
  std::printf("[ rule     ] try_heavy(): %llu of %d calls succeeded, %llu violations\n",
              static_cast<unsigned long long>(tried.calls), rule_threads * rule_calls_per_thread,
              static_cast<unsigned long long>(tried.violations));
  EXPECT_GT(tried.calls, 0u);
  EXPECT_EQ(tried.violations, 0u);
}

TEST_F(SharingRule, TryHeavyFailsAtOnceWhileAnotherBarrierIsInFlight) {
  logged.duration = std::chrono::microseconds(0);
  logged.hold = true;
  std::thread holder([] { asymfence::heavy(); });
  // The holder's barrier is in flight once the fake is holding it.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!logged.holding.load() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  if (!logged.holding.load()) {
    logged.hold = false;
    holder.join();
    FAIL() << "heavy() never reached the mechanism";
  }

  const asymfence::statistics before = asymfence::stats();
  const std::uint64_t started_before = logged.started.load();
  const bool while_in_flight = asymfence::try_heavy();
  const asymfence::statistics during = asymfence::stats();
  const std::uint64_t started_during = logged.started.load();
  logged.hold = false;
  holder.join();

  EXPECT_FALSE(while_in_flight) << "try_heavy() claimed a barrier while another was in flight";
  EXPECT_EQ(during.heavy_calls, before.heavy_calls);
  EXPECT_EQ(started_during, started_before) << "try_heavy() must not start a barrier";

  const std::uint64_t started_idle = logged.started.load();
  EXPECT_TRUE(asymfence::try_heavy()) << "try_heavy() failed with nothing in flight";
  EXPECT_EQ(logged.started.load(), started_idle + 1) << "its barrier must reach the mechanism";
  EXPECT_EQ(logged.completed.load(), logged.started.load());
}

TEST_F(SharingRule, CompletedTicketObeysTheSameRule) {
  const rule_outcome polled = check_sharing_rule(polled_heavy);
  std::printf("[ rule     ] start_heavy() + heavy_completed(): %llu calls, %llu violations\n",
              static_cast<unsigned long long>(polled.calls),
              static_cast<unsigned long long>(polled.violations));
  EXPECT_EQ(polled.calls, static_cast<std::uint64_t>(rule_threads) * rule_calls_per_thread);
  EXPECT_EQ(polled.violations, 0u);
}

// ---------------------------------------------------------------------------
// Progress of the polling form under sustained heavy() load: 16 threads loop
// on heavy() (on a 2-core machine) while one thread takes tickets. After each
// poll that returns false it waits until one more barrier has completed in
// the mechanism (logged.completed grows), then polls again.
//
// The bound, from the design: let S be logged.started read just after
// start_heavy() returned. At most one barrier is in flight at a time, so a
// barrier numbered S+2 or later began after the arrival (S+1 may be the one
// in flight at the arrival), and once S+3 has completed in the mechanism, S+2
// has completed in the library (S+3's leader started it after S+2's
// completing step). So a poll made when logged.completed >= S+3 returns true.
// logged.completed is at least S-1 at the first poll and grows by one or more
// before each further poll: a ticket takes at most 5 polls.
//
// The control: try_heavy() in place of heavy_completed(), each false answer
// followed by the same wait. It may fail at every try while others keep
// barriers in flight, so it must break the bound (that is the starvation the
// polling form exists for).

constexpr int load_threads = 16;
constexpr int polls_bound = 5;
constexpr double polling_seconds = 3.0;
constexpr int minimum_tickets = 100;
constexpr int control_tickets = 10;

struct polling_outcome {
  int tickets = 0;
  int violations = 0;  // false answers although logged.completed >= S+3
  int max_polls = 0;
  std::map<int, int> polls_per_ticket;  // polls -> tickets
};

// `attempt(first)` starts a ticket when `first` and answers whether the
// barrier is complete. Runs for `seconds`, and at least `min_tickets`.
template <typename Attempt>
polling_outcome poll_under_load(Attempt attempt, double seconds, int min_tickets) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int t = 0; t < load_threads; ++t) {
    load.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) asymfence::heavy();
    });
  }
  polling_outcome out;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end || out.tickets < min_tickets) {
    int polls = 0;
    std::uint64_t s = 0;
    for (;;) {
      const std::uint64_t completed = logged.completed.load(std::memory_order_seq_cst);
      const bool done = attempt(polls == 0);
      if (polls == 0) s = logged.started.load(std::memory_order_seq_cst);
      ++polls;
      if (done) break;
      if (completed >= s + 3) ++out.violations;
      while (logged.completed.load(std::memory_order_seq_cst) == completed) {
        std::this_thread::yield();
      }
    }
    ++out.tickets;
    ++out.polls_per_ticket[polls];
    if (polls > out.max_polls) out.max_polls = polls;
  }
  stop.store(true);
  for (std::thread& t : load) t.join();
  return out;
}

// "1: n1, 2: n2, ..." up to the bound, then the tickets that needed more.
std::string distribution(const polling_outcome& o) {
  std::string text;
  int more = 0;
  for (const auto& [polls, tickets] : o.polls_per_ticket) {
    if (polls > polls_bound) {
      more += tickets;
      continue;
    }
    text += (text.empty() ? "" : ", ") + std::to_string(polls) + ": " + std::to_string(tickets);
  }
  if (more > 0) {
    text += std::string(text.empty() ? "" : ", ") + "more than " + std::to_string(polls_bound) +
            ": " + std::to_string(more);
  }
  return text;
}

TEST_F(SharingRule, EveryTicketCompletesWithinFivePollsUnderSustainedHeavyLoad) {
  asymfence::heavy_ticket ticket{};
  const polling_outcome polled = poll_under_load(
      [&](bool first) {
        if (first) ticket = asymfence::start_heavy();
        return asymfence::heavy_completed(ticket);
      },
      polling_seconds, minimum_tickets);
  std::printf(
      "[ polling  ] %d threads in heavy(): %d tickets, polls per ticket {%s}, max %d, "
      "%d violations\n",
      load_threads, polled.tickets, distribution(polled).c_str(), polled.max_polls,
      polled.violations);

  int attempts = 0;
  const polling_outcome control =
      asymfence::litmus::repeat_until_forbidden(
          [&] {
            polling_outcome o =
                poll_under_load([](bool) { return asymfence::try_heavy(); }, 1.0, control_tickets);
            struct {
              std::uint64_t forbidden;
              polling_outcome outcome;
            } r{static_cast<std::uint64_t>(o.violations > 0 && o.max_polls > polls_bound), o};
            return r;
          },
          asymfence::litmus::control_patience_seconds, &attempts)
          .outcome;
  std::printf(
      "[ polling  ] control, try_heavy() in its place: %d tickets, tries per ticket {%s}, "
      "max %d, %d violations (attempt %d)\n",
      control.tickets, distribution(control).c_str(), control.max_polls, control.violations,
      attempts);

  EXPECT_GE(polled.tickets, minimum_tickets);
  EXPECT_EQ(polled.violations, 0) << "a poll answered false although a barrier begun after the "
                                     "arrival had completed";
  EXPECT_LE(polled.max_polls, polls_bound);
  EXPECT_GT(control.violations, 0) << "the control never starved: the load is too light to "
                                      "tell the polling form from try_heavy()";
  EXPECT_GT(control.max_polls, polls_bound);
}

}  // namespace
