// SPDX-License-Identifier: Apache-2.0 OR MIT
// Concurrent first use: many threads reach the library at once before anything
// has selected a strategy (no init()). Exactly one selection must happen and
// every thread must see its outcome.
#include <asymfence/asymfence.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "forced_strategy.hpp"
#include "seam_counter.hpp"
#include "testing.hpp"

namespace {

using asymfence::strategy;

constexpr int thread_count = 64;
constexpr int rounds = 40;

// Each thread starts with a different entry point, so that selection is
// entered from light(), heavy(), try_heavy() and active_strategy() alike.
strategy first_use(int thread_index) {
  switch (thread_index % 4) {
    case 0: asymfence::heavy(); break;
    case 1: asymfence::light(); break;
    case 2: (void)asymfence::try_heavy(); break;
    default: break;
  }
  strategy seen = asymfence::active_strategy();
  asymfence::light();
  asymfence::heavy();
  return seen;
}

TEST(FirstUse, SixtyFourThreadsSeeOneStrategy) {
  asymfence::test::scoped_override no_override(nullptr);
  const strategy expected = no_override.selected();
  ASSERT_NE(expected, strategy::none) << no_override.message();
  // One selection asks membarrier QUERY a fixed number of times: counting
  // them shows how many selections a round ran.
  asymfence::test::install_counting_seam();
  asymfence::test::counts().reset();
  asymfence::detail::reselect_for_testing();
  const std::uint64_t queries_per_selection = asymfence::test::counts().membarrier_query;

  for (int round = 0; round < rounds; ++round) {
    asymfence::detail::unselect_for_testing();
    asymfence::test::counts().reset();
    std::atomic<bool> go{false};
    std::atomic<int> ready{0};
    std::vector<strategy> seen(thread_count, strategy::none);
    const asymfence::statistics before = asymfence::stats();
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        seen[t] = first_use(t);
      });
    }
    while (ready.load() < thread_count) std::this_thread::yield();
    go.store(true, std::memory_order_release);
    for (std::thread& t : threads) t.join();

    for (int t = 0; t < thread_count; ++t) {
      ASSERT_EQ(seen[t], expected)
          << "thread " << t << " in round " << round << " saw " << asymfence::to_string(seen[t]);
    }
    EXPECT_EQ(asymfence::active_strategy(), expected);
    EXPECT_EQ(asymfence::test::counts().membarrier_query, queries_per_selection)
        << "round " << round << " selected more than once";
    const asymfence::statistics after = asymfence::stats();
    // Every thread's final heavy() plus the first heavy()/try_heavy() of some.
    EXPECT_GE(after.heavy_calls - before.heavy_calls, static_cast<unsigned>(thread_count));
    EXPECT_EQ(after.strategy_switches, before.strategy_switches);
  }
}

}  // namespace
