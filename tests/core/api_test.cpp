// SPDX-License-Identifier: Apache-2.0 OR MIT
// The C++ API as a user sees it: names, init(), the strategy in force, the
// P1202 functions, try_heavy(), the counters and the selection report. Built
// twice, as C++17 and as C++20.
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

namespace {

using asymfence::strategy;

TEST(Api, BuiltWithTheRequestedLanguageStandard) {
  // Proves that the C++20 build of this file really is C++20.
  EXPECT_GE(__cplusplus, ASYMFENCE_TEST_CPLUSPLUS);
}

TEST(Api, StrategyNamesAreExact) {
  EXPECT_STREQ(asymfence::to_string(strategy::none), "none");
  EXPECT_STREQ(asymfence::to_string(strategy::membarrier_private_expedited),
               "membarrier_private_expedited");
  EXPECT_STREQ(asymfence::to_string(strategy::mprotect), "mprotect");
  EXPECT_STREQ(asymfence::to_string(strategy::membarrier_global), "membarrier_global");
  EXPECT_STREQ(asymfence::to_string(strategy::flush_process_write_buffers),
               "flush_process_write_buffers");
  EXPECT_STREQ(asymfence::to_string(strategy::fence), "fence");
  EXPECT_STREQ(asymfence::to_string(strategy::virtual_protect), "virtual_protect");
  // The values are stable: new strategies come at the end.
  EXPECT_EQ(static_cast<int>(strategy::fence), 5);
  EXPECT_EQ(static_cast<int>(strategy::virtual_protect), 6);
  EXPECT_EQ(asymfence::strategy_count, 7);
}

TEST(Api, OutOfRangeStrategyIsUnknown) {
  EXPECT_STREQ(asymfence::to_string(static_cast<strategy>(asymfence::strategy_count)), "unknown");
  EXPECT_STREQ(asymfence::to_string(static_cast<strategy>(-1)), "unknown");
  EXPECT_STREQ(asymfence::to_string(static_cast<strategy>(1000)), "unknown");
}

TEST(Api, InitSucceedsAndAgreesWithActiveStrategy) {
  asymfence::init_result r = asymfence::init();
  ASSERT_TRUE(r) << r.message;
  EXPECT_NE(r.selected, strategy::none);
  EXPECT_EQ(r.error, 0);
  EXPECT_STREQ(r.message, "");
  EXPECT_EQ(asymfence::active_strategy(), r.selected);
  // Selecting is done once: a second init() answers the same.
  EXPECT_EQ(asymfence::init().selected, r.selected);
  std::printf("[ strategy ] %s\n", asymfence::to_string(r.selected));
}

TEST(Api, HeavyIsCountedAndIssuesABarrier) {
  ASSERT_TRUE(asymfence::init());
  // One thread, nobody to share with: every call issues its own barrier.
  asymfence::statistics before = asymfence::stats();
  asymfence::heavy();
  asymfence::heavy();
  asymfence::statistics after = asymfence::stats();
  EXPECT_EQ(after.heavy_calls - before.heavy_calls, 2u);
  if (asymfence::active_strategy() != strategy::fence) {
    EXPECT_EQ(after.barriers_issued - before.barriers_issued, 2u);
  }
  EXPECT_EQ(after.strategy_switches, before.strategy_switches);
}

TEST(Api, TryHeavySucceedsWhenUncontended) {
  ASSERT_TRUE(asymfence::init());
  asymfence::statistics before = asymfence::stats();
  EXPECT_TRUE(asymfence::try_heavy());
  asymfence::statistics after = asymfence::stats();
  EXPECT_EQ(after.heavy_calls - before.heavy_calls, 1u);
  if (asymfence::active_strategy() != strategy::fence) {
    EXPECT_EQ(after.barriers_issued - before.barriers_issued, 1u);
  }
}

TEST(Api, P1202HeavyIsABarrierForEveryOrderButRelaxed) {
  ASSERT_TRUE(asymfence::init());
  const std::memory_order barrier_orders[] = {std::memory_order_consume, std::memory_order_acquire,
                                              std::memory_order_release, std::memory_order_acq_rel,
                                              std::memory_order_seq_cst};
  for (std::memory_order order : barrier_orders) {
    asymfence::statistics before = asymfence::stats();
    asymfence::asymmetric_thread_fence_heavy(order);
    EXPECT_EQ(asymfence::stats().heavy_calls - before.heavy_calls, 1u)
        << "memory_order " << static_cast<int>(order);
  }
  asymfence::statistics before = asymfence::stats();
  asymfence::asymmetric_thread_fence_heavy(std::memory_order_relaxed);
  EXPECT_EQ(asymfence::stats().heavy_calls, before.heavy_calls) << "a relaxed fence does nothing";
}

TEST(Api, P1202LightNeverReachesTheSlowPath) {
  ASSERT_TRUE(asymfence::init());
  asymfence::statistics before = asymfence::stats();
  for (std::memory_order order :
       {std::memory_order_relaxed, std::memory_order_consume, std::memory_order_acquire,
        std::memory_order_release, std::memory_order_acq_rel, std::memory_order_seq_cst}) {
    asymfence::asymmetric_thread_fence_light(order);
  }
  asymfence::light();
  EXPECT_EQ(asymfence::stats().heavy_calls, before.heavy_calls);
  EXPECT_EQ(asymfence::stats().barriers_issued, before.barriers_issued);
}

TEST(Api, BarriersAreNoexcept) {
  static_assert(noexcept(asymfence::light()));
  static_assert(noexcept(asymfence::heavy()));
  static_assert(noexcept(asymfence::try_heavy()));
  static_assert(noexcept(asymfence::asymmetric_thread_fence_light(std::memory_order_seq_cst)));
  static_assert(noexcept(asymfence::asymmetric_thread_fence_heavy(std::memory_order_seq_cst)));
  static_assert(noexcept(asymfence::init()));
  static_assert(noexcept(asymfence::active_strategy()));
  static_assert(noexcept(asymfence::stats()));
  SUCCEED();
}

TEST(Api, SelectionReportAgreesWithInit) {
  asymfence::init_result r = asymfence::init();
  ASSERT_TRUE(r);
  asymfence::selection_report report = asymfence::selection();
  EXPECT_EQ(report.selected, r.selected);
  EXPECT_EQ(report.error, 0);
  EXPECT_STREQ(report.message, "");
  EXPECT_FALSE(report.forced) << "the test runs without ASYMFENCE_STRATEGY";
  EXPECT_EQ(report.light_fences, ASYMFENCE_CHECKED_LIGHT || !ASYMFENCE_HAS_ASYMMETRIC_MECHANISM);

  std::set<strategy> listed;
  int selected_count = 0;
  bool earlier_usable = false;
  for (const asymfence::candidate_report& c : report.candidates) {
    SCOPED_TRACE(asymfence::to_string(c.id));
    EXPECT_NE(c.id, strategy::none);
    EXPECT_TRUE(listed.insert(c.id).second) << "listed twice";
    EXPECT_EQ(c.usable, c.reason[0] == '\0') << "reason: " << c.reason;
    if (c.selected) {
      ++selected_count;
      EXPECT_EQ(c.id, r.selected);
      EXPECT_TRUE(c.usable);
      EXPECT_FALSE(earlier_usable) << "a more preferred strategy was usable";
    }
    earlier_usable = earlier_usable || c.usable;
  }
  EXPECT_EQ(selected_count, 1);
  EXPECT_EQ(static_cast<int>(listed.size()), asymfence::strategy_count - 1);
}

// What each candidate must say on this platform.
TEST(Api, SelectionReportMatchesThePlatform) {
  asymfence::selection_report report = asymfence::selection();
  for (const asymfence::candidate_report& c : report.candidates) {
    SCOPED_TRACE(asymfence::to_string(c.id));
    if (c.id == strategy::fence) EXPECT_EQ(c.usable, report.light_fences) << c.reason;
#if !defined(_WIN32)
    if (c.id == strategy::flush_process_write_buffers) EXPECT_FALSE(c.usable);
    if (c.id == strategy::virtual_protect) EXPECT_FALSE(c.usable);
#endif
    // The shootdown tricks follow the CPU's verdict (TLB shootdowns that
    // interrupt every CPU), where their platform has them.
    if ((c.id == strategy::mprotect || c.id == strategy::virtual_protect) && c.usable) {
      EXPECT_TRUE(report.tlb.interrupts_every_cpu) << report.tlb.verdict;
    }
#if defined(__linux__) && !(defined(__x86_64__) || defined(__i386__))
    if (c.id == strategy::mprotect) EXPECT_FALSE(c.usable) << "the trick needs x86 IPIs";
#endif
  }
#if defined(__linux__)
  EXPECT_STRNE(report.kernel_release, "");
  constexpr long private_expedited_bits = (1 << 3) | (1 << 4);
  if (report.membarrier_query >= 0 &&
      (report.membarrier_query & private_expedited_bits) == private_expedited_bits) {
#if defined(__riscv)
    if (report.selected != strategy::membarrier_private_expedited) {
      EXPECT_NE(std::strstr(report.candidates[0].reason, "RISC-V"), nullptr);
    }
#else
    EXPECT_EQ(report.selected, strategy::membarrier_private_expedited)
        << "QUERY offers PRIVATE_EXPEDITED (0x" << std::hex << report.membarrier_query << ")";
#endif
  }
#endif
}

}  // namespace
