// SPDX-License-Identifier: Apache-2.0 OR MIT
// Store buffering through RCU's own code: a reader (lock, load the current
// object, read it for a while, unlock) against an updater (publish a new
// object, rcu_synchronize, mark the old one dead). With the grace period's
// heavy() the reader never sees a dead object; with heavy() replaced by a
// plain seq_cst fence through the internal seam (the reader's light() stays a
// compiler barrier), the scan can miss a reader whose counter store is still
// in its store buffer, and the control must show dead objects being read.
#include <gtest/gtest.h>

#include <asymfence/rcu.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "emulator.hpp"
#include "primitives/rcu_testing.hpp"
#include "store_buffering.hpp"
#include "waiter.hpp"

namespace {

struct alignas(64) object {
  std::atomic<int> dead{0};
};

struct outcome {
  std::uint64_t rounds = 0;
  std::uint64_t dead_seen = 0;  // reads of a reclaimed object inside a section
  bool pinned = false;
};

// Two-party spin barrier: the n-th call on each side returns once both made it.
void meet(std::atomic<std::uint64_t>& count, std::uint64_t n) {
  count.fetch_add(1, std::memory_order_acq_rel);
  while (count.load(std::memory_order_acquire) < 2 * n) asymfence::detail::cpu_relax();
}

outcome run(std::uint64_t rounds, double seconds) {
  object objects[2];
  std::atomic<object*> current{&objects[0]};
  std::atomic<std::uint64_t> line_up{0};
  std::atomic<std::uint64_t> rounds_done{0};
  std::atomic<bool> stop{false};
  std::atomic<int> pinned{0};
  std::uint64_t dead_seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);

  std::thread reader([&] {
    pinned += asymfence::litmus::pin_to_nth_allowed_cpu(0) ? 1 : 0;
    asymfence::rcu_domain& dom = asymfence::rcu_default_domain();
    for (std::uint64_t i = 1; i <= rounds; ++i) {
      meet(line_up, 2 * i - 1);
      if (stop.load(std::memory_order_relaxed)) break;
      dom.lock();
      object* p = current.load(std::memory_order_acquire);
      for (int k = 0; k < 400; ++k) {
        if (p->dead.load(std::memory_order_relaxed) != 0) {
          ++dead_seen;
          break;
        }
        asymfence::detail::cpu_relax();
      }
      dom.unlock();
      meet(line_up, 2 * i);
    }
  });
  std::thread updater([&] {
    pinned += asymfence::litmus::pin_to_nth_allowed_cpu(1) ? 1 : 0;
    for (std::uint64_t i = 1; i <= rounds; ++i) {
      object* old = current.load(std::memory_order_relaxed);
      object* fresh = old == &objects[0] ? &objects[1] : &objects[0];
      fresh->dead.store(0, std::memory_order_relaxed);
      if ((i & 1023) == 0 && std::chrono::steady_clock::now() > deadline) {
        stop.store(true, std::memory_order_relaxed);
      }
      meet(line_up, 2 * i - 1);
      if (stop.load(std::memory_order_relaxed)) break;
      current.store(fresh, std::memory_order_release);
      asymfence::rcu_synchronize();
      old->dead.store(1, std::memory_order_relaxed);  // reclaimed
      meet(line_up, 2 * i);
      rounds_done.store(i, std::memory_order_relaxed);
    }
  });
  reader.join();
  updater.join();
  return {rounds_done.load(), dead_seen, pinned.load() == 2};
}

void seq_cst_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

std::string reason_to_skip() {
  if (!asymfence::test::emulator_name().empty()) return "under an emulator";
  if (ASYMFENCE_TSAN) return "built with ThreadSanitizer: light() is a real fence";
  if (!ASYMFENCE_LIGHT_IS_COMPILER_BARRIER) return "light() is not a compiler barrier here";
  if (std::thread::hardware_concurrency() < 2) return "one CPU";
  if (asymfence::active_strategy() == asymfence::strategy::fence) {
    return "the fence strategy: light() fences, so the control cannot fail";
  }
  return "";
}

TEST(RcuStoreBuffering, ReaderNeverSeesReclaimedObject) {
  ASYMFENCE_SKIP_UNDER_EMULATOR(
      "an emulator runs with its host's memory order, so the control proves nothing there");
  const std::string skip = reason_to_skip();
  if (!skip.empty()) GTEST_SKIP() << skip;
  asymfence::rcu_synchronize();  // registration and selection before timing

  const std::uint64_t gp_before = asymfence::detail::rcu_grace_periods_for_testing();
  const outcome real = run(200'000, 20);
  const std::uint64_t grace_periods =
      asymfence::detail::rcu_grace_periods_for_testing() - gp_before;

  asymfence::detail::rcu_set_updater_barrier_for_testing(&seq_cst_fence);
  int attempts = 0;
  const outcome control = asymfence::litmus::repeat_until_forbidden(
                              [] {
                                outcome o = run(1'000'000, 10);
                                struct {
                                  outcome o;
                                  std::uint64_t forbidden;
                                } r{o, o.dead_seen};
                                return r;
                              },
                              asymfence::litmus::control_patience_seconds, &attempts)
                              .o;
  asymfence::detail::rcu_set_updater_barrier_for_testing(nullptr);

  std::printf(
      "[ rcu sb   ] real: %llu rounds, %llu dead objects seen, %llu grace periods (pinned: %s); "
      "control (plain fence): %llu rounds in the last of %d attempts, %llu dead objects seen\n",
      static_cast<unsigned long long>(real.rounds), static_cast<unsigned long long>(real.dead_seen),
      static_cast<unsigned long long>(grace_periods), real.pinned ? "yes" : "no",
      static_cast<unsigned long long>(control.rounds), attempts,
      static_cast<unsigned long long>(control.dead_seen));
  EXPECT_GT(real.rounds, 1000u);
  EXPECT_GE(grace_periods, real.rounds);
  EXPECT_EQ(real.dead_seen, 0u) << "a reader read an object reclaimed after rcu_synchronize";
  EXPECT_GT(control.dead_seen, 0u)
      << "the control never let a reader see a reclaimed object: the harness cannot see violations";
}

}  // namespace
