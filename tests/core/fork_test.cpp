// SPDX-License-Identifier: Apache-2.0 OR MIT
// fork() from a multi-threaded parent whose other threads are inside heavy():
// the child has only the forking thread, so any barrier, lock or waiter state
// that another parent thread held must not make the child's heavy() hang or
// crash. Each child calls heavy() and proves, through the counting seam, that
// its barriers reached the mechanism.
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "child_process.hpp"
#include "forced_strategy.hpp"
#include "mechanism_barriers.hpp"

namespace {

using asymfence::strategy;

constexpr int heavy_threads = 3;
constexpr int children = 24;
constexpr int heavy_calls_per_child = 4;
constexpr int child_timeout_seconds = 20;

// Barriers in flight right now, as seen through the seam. A child reads its
// copy first thing: it is the parent's count at the instant of fork(). The
// short sleep after each call keeps barriers in flight most of the time, so
// that forks land inside heavy().
std::atomic<int> in_flight{0};
asymfence::detail::os_seam before_tracking;

long tracking_membarrier(int cmd, unsigned flags, int cpu_id) noexcept {
  in_flight.fetch_add(1);
  long result = before_tracking.membarrier(cmd, flags, cpu_id);
  std::this_thread::sleep_for(std::chrono::microseconds(100));
  in_flight.fetch_sub(1);
  return result;
}

int tracking_mprotect(void* addr, std::size_t len, int prot) noexcept {
  in_flight.fetch_add(1);
  int result = before_tracking.mprotect(addr, len, prot);
  std::this_thread::sleep_for(std::chrono::microseconds(100));
  in_flight.fetch_sub(1);
  return result;
}

// The child's body: heavy() a few times, each reaching the mechanism. Exit
// codes say what went wrong; 0 is success. Prints "in flight at fork: N".
int child_body(strategy expected) {
  const int at_fork = in_flight.load();
  asymfence::test::counts().reset();
  const asymfence::statistics before = asymfence::stats();
  for (int i = 0; i < heavy_calls_per_child; ++i) asymfence::heavy();
  const asymfence::statistics after = asymfence::stats();
  // write(2), not stdio: the child exits with _exit(), and its stdio buffer
  // may still hold the parent's unflushed output.
  char line[160];
  int len = std::snprintf(
      line, sizeof line, "in flight at fork: %d; barriers %llu, by the mechanism %llu\n", at_fork,
      static_cast<unsigned long long>(after.barriers_issued - before.barriers_issued),
      static_cast<unsigned long long>(asymfence::test::mechanism_barriers(expected)));
  if (len > 0) (void)!::write(STDOUT_FILENO, line, static_cast<std::size_t>(len));
  if (asymfence::active_strategy() != expected) return 2;
  if (after.heavy_calls - before.heavy_calls != heavy_calls_per_child) return 3;
  // Alone in the child, every heavy() issues its own barrier.
  if (after.barriers_issued - before.barriers_issued < heavy_calls_per_child) return 4;
  if (asymfence::test::mechanism_barriers(expected) < heavy_calls_per_child) return 5;
  return 0;
}

void fork_while_heavy_runs(const char* forced_name) {
  asymfence::test::scoped_override forced(forced_name);
  const strategy s = forced.selected();
  ASSERT_NE(s, strategy::none) << forced.message();
  if (s == strategy::fence) GTEST_SKIP() << "the fence strategy makes no system call";
  std::printf("[ strategy ] %s\n", asymfence::to_string(s));

  before_tracking = asymfence::detail::os;
  asymfence::detail::os.membarrier = tracking_membarrier;
  asymfence::detail::os.mprotect = tracking_mprotect;
  asymfence::test::install_counting_seam();

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < heavy_threads; ++t) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) asymfence::heavy();
    });
  }
  int inside_heavy = 0;
  std::vector<std::string> failures;
  std::thread forker([&] {
    // Stops at the first failure: a hanging child costs its whole timeout.
    for (int i = 0; i < children && failures.empty(); ++i) {
      asymfence::test::child_result r =
          asymfence::test::run_in_child([s] { return child_body(s); }, child_timeout_seconds);
      if (!r.exited || r.code != 0) {
        failures.push_back(
            "child " + std::to_string(i) + ": " +
            (r.signaled ? "signal " + std::to_string(r.signal) : "exit " + std::to_string(r.code)) +
            ", output: " + r.output);
      }
      const std::size_t report = r.output.find("in flight at fork: ");
      int at_fork = 0;
      if (report != std::string::npos &&
          std::sscanf(r.output.c_str() + report, "in flight at fork: %d", &at_fork) == 1 &&
          at_fork > 0) {
        ++inside_heavy;
      }
    }
  });
  forker.join();
  stop.store(true);
  for (std::thread& t : threads) t.join();

  for (const std::string& f : failures) ADD_FAILURE() << f;
  std::printf("[ fork     ] %d children, %d forked while a barrier was in flight\n", children,
              inside_heavy);
  EXPECT_GT(inside_heavy, 0) << "no fork happened inside heavy(): the test proved nothing";
}

TEST(Fork, ChildrenOfAParentInsideHeavyCanCallHeavyWithTheDefaultStrategy) {
  fork_while_heavy_runs(nullptr);
}

TEST(Fork, ChildrenOfAParentInsideHeavyCanCallHeavyWithMprotect) {
  for (const asymfence::candidate_report& c : asymfence::selection().candidates) {
    if (c.id == strategy::mprotect && !c.usable) GTEST_SKIP() << "mprotect: " << c.reason;
  }
  fork_while_heavy_runs("mprotect");
}

}  // namespace
