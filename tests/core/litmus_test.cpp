// SPDX-License-Identifier: Apache-2.0 OR MIT
// Store buffering, light() against heavy(), for every strategy this machine
// can use, each forced through ASYMFENCE_STRATEGY. Each instance proves three
// things: the forbidden outcome never appears; the control (heavy replaced by
// a plain seq_cst fence) does show it, so the harness can see violations; and
// the strategy's system call really ran for every heavy call. The polling
// form (start_heavy(), then heavy_completed() until true) is checked the same
// way, with another thread calling heavy() now and then so that polls meet
// barriers that other threads started.
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "emulator.hpp"
#include "forced_strategy.hpp"
#include "mechanism_barriers.hpp"
#include "store_buffering.hpp"

namespace {

using asymfence::strategy;

struct plan {
  std::uint64_t iterations;
  double time_limit_seconds;  // 0: run them all
  std::uint64_t minimum_iterations;
};

// GLOBAL waits for an RCU grace period (about 10 ms), so it gets a few
// hundred rounds within a time limit; the expedited mechanisms get a million.
plan plan_for(strategy s) {
  if (s == strategy::membarrier_global) return {300, 8.0, 50};
  return {1'000'000, 0, 1'000'000};
}

std::vector<strategy> every_strategy() {
  std::vector<strategy> all;
  for (int i = 1; i < asymfence::strategy_count; ++i) all.push_back(static_cast<strategy>(i));
  return all;
}

// Why the strategy cannot be tested here, or "" when it can.
std::string reason_to_skip(strategy s) {
  if (!asymfence::test::emulator_name().empty()) {
    return "under " + asymfence::test::emulator_name() +
           ", which runs the threads with the host's memory order";
  }
  if (ASYMFENCE_TSAN) {
    return "built with ThreadSanitizer: light() is a real fence, so the control cannot fail";
  }
  if (std::thread::hardware_concurrency() < 2) {
    return "one CPU: the two sides never run at the same time";
  }
  asymfence::selection_report report = asymfence::selection();
  if (report.platform_warning[0] != '\0') return report.platform_warning;
  for (const asymfence::candidate_report& c : report.candidates) {
    if (c.id == s && !c.usable) return std::string("not usable here: ") + c.reason;
  }
  if (s == strategy::fence) {
    return "light() fences under the fence strategy, so the control cannot show violations";
  }
  return "";
}

// Forces the strategy (or skips) and counts its system calls; afterwards the
// default selection and the real seam are back.
class StoreBuffering : public ::testing::TestWithParam<strategy> {
 protected:
  void SetUp() override {
    const strategy s = GetParam();
    const std::string skip = reason_to_skip(s);
    if (!skip.empty()) GTEST_SKIP() << asymfence::to_string(s) << ": " << skip;
    forced_ = std::make_unique<asymfence::test::scoped_override>(asymfence::to_string(s));
    ASSERT_EQ(forced_->selected(), s) << forced_->message();
    asymfence::test::install_counting_seam();
    asymfence::test::counts().reset();
  }
  void TearDown() override { forced_.reset(); }

  std::unique_ptr<asymfence::test::scoped_override> forced_;
};

TEST_P(StoreBuffering, LightAgainstHeavyNeverShowsTheForbiddenOutcome) {
  const strategy s = GetParam();
  std::printf("[ strategy ] %s\n", asymfence::to_string(s));

  const plan p = plan_for(s);
  const asymfence::statistics before = asymfence::stats();
  const asymfence::litmus::outcome real = asymfence::litmus::run_store_buffering(
      p.iterations, asymfence::litmus::light_barrier, asymfence::litmus::heavy_barrier,
      p.time_limit_seconds);
  const asymfence::statistics after = asymfence::stats();
  const std::uint64_t heavy_calls = after.heavy_calls - before.heavy_calls;
  const std::uint64_t barriers = asymfence::test::mechanism_barriers(s);

  const asymfence::litmus::outcome control = asymfence::litmus::run_control(1'000'000);
  std::printf(
      "[ litmus   ] %s: %llu iterations, %llu forbidden (pinned: %s); control: %llu "
      "iterations, %llu forbidden; %llu heavy calls, %llu barriers by the mechanism\n",
      asymfence::to_string(s), static_cast<unsigned long long>(real.iterations),
      static_cast<unsigned long long>(real.forbidden), real.pinned ? "yes" : "no",
      static_cast<unsigned long long>(control.iterations),
      static_cast<unsigned long long>(control.forbidden),
      static_cast<unsigned long long>(heavy_calls), static_cast<unsigned long long>(barriers));

  EXPECT_GE(real.iterations, p.minimum_iterations);
  EXPECT_EQ(real.forbidden, 0u) << "light() against heavy() let both loads miss both stores";
  EXPECT_GT(control.forbidden, 0u)
      << "the control never showed the forbidden outcome: the harness cannot see violations";
  EXPECT_EQ(asymfence::active_strategy(), s) << "the strategy changed during the run";
  EXPECT_EQ(after.strategy_switches, before.strategy_switches);
  EXPECT_GE(heavy_calls, real.iterations);
  EXPECT_GE(barriers, heavy_calls)
      << "fewer barriers than heavy calls: the mechanism did not run every time";
}

// The heavy side in its polling form, counting the tickets that were not
// complete at the first poll (their barrier was still to come).
std::atomic<std::uint64_t> tickets_polled{0};
std::atomic<std::uint64_t> tickets_waited{0};

void polled_heavy_barrier() {
  const asymfence::heavy_ticket ticket = asymfence::start_heavy();
  tickets_polled.fetch_add(1, std::memory_order_relaxed);
  if (asymfence::heavy_completed(ticket)) return;
  tickets_waited.fetch_add(1, std::memory_order_relaxed);
  while (!asymfence::heavy_completed(ticket)) {
  }
}

plan polled_plan_for(strategy s) {
  if (s == strategy::membarrier_global) return {300, 8.0, 50};
  return {200'000, 60.0, 50'000};
}

TEST_P(StoreBuffering, LightAgainstPolledHeavyNeverShowsTheForbiddenOutcome) {
  const strategy s = GetParam();
  tickets_polled = 0;
  tickets_waited = 0;

  std::atomic<bool> stop{false};
  std::thread other_caller([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      asymfence::heavy();
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  });
  const plan p = polled_plan_for(s);
  const asymfence::statistics before = asymfence::stats();
  const asymfence::litmus::outcome real = asymfence::litmus::run_store_buffering(
      p.iterations, asymfence::litmus::light_barrier, polled_heavy_barrier, p.time_limit_seconds);
  const asymfence::statistics after = asymfence::stats();
  stop.store(true);
  other_caller.join();

  const asymfence::litmus::outcome control = asymfence::litmus::run_control(1'000'000);
  std::printf(
      "[ polled   ] %s: %llu iterations, %llu forbidden (pinned: %s); control: %llu iterations, "
      "%llu forbidden; %llu tickets, %llu not complete at the first poll; %llu barriers by the "
      "mechanism\n",
      asymfence::to_string(s), static_cast<unsigned long long>(real.iterations),
      static_cast<unsigned long long>(real.forbidden), real.pinned ? "yes" : "no",
      static_cast<unsigned long long>(control.iterations),
      static_cast<unsigned long long>(control.forbidden),
      static_cast<unsigned long long>(tickets_polled.load()),
      static_cast<unsigned long long>(tickets_waited.load()),
      static_cast<unsigned long long>(asymfence::test::mechanism_barriers(s)));

  EXPECT_GE(real.iterations, p.minimum_iterations);
  EXPECT_EQ(real.forbidden, 0u) << "light() against the polled heavy() let both loads miss";
  EXPECT_GT(control.forbidden, 0u)
      << "the control never showed the forbidden outcome: the harness cannot see violations";
  // How many tickets met another thread's barrier depends on the scheduler:
  // on a quiet machine the pinned litmus threads hold both CPUs and the other
  // caller seldom overlaps (0 in 200,000 seen), under load often. The rule
  // for tickets that wait is proven deterministically through the seam
  // (SharingRule.CompletedTicketObeysTheSameRule and
  // SharingRule.EveryTicketCompletesWithinFivePollsUnderSustainedHeavyLoad).
  EXPECT_EQ(asymfence::active_strategy(), s) << "the strategy changed during the run";
  EXPECT_EQ(after.strategy_switches, before.strategy_switches);
  EXPECT_GE(asymfence::test::mechanism_barriers(s), after.barriers_issued - before.barriers_issued)
      << "fewer barriers by the mechanism than the library counted";
}

INSTANTIATE_TEST_SUITE_P(EveryStrategy, StoreBuffering, ::testing::ValuesIn(every_strategy()),
                         [](const ::testing::TestParamInfo<strategy>& info) {
                           return std::string(asymfence::to_string(info.param));
                         });

}  // namespace
