// SPDX-License-Identifier: Apache-2.0 OR MIT
// heavy() called from a signal handler that interrupted heavy() on the same
// thread, perhaps while that thread was leading the barrier in flight: the
// nested call must neither wait for that barrier (its own thread cannot
// complete it while the handler runs) nor disturb it. Each case runs in a
// child process with a deadline, so that a hang becomes a failure:
// - a 1 ms interval timer whose SIGALRM handler calls heavy() while the
//   thread loops on heavy(), per strategy: the nested calls must finish (and
//   must have happened: the seam sees a system call start while another is in
//   progress on the same thread), or, for the mprotect trick, whose barrier
//   cannot be nested, the process must stop with a message;
// - a handler that calls heavy() while its thread is inside selection must
//   stop the process with a message.
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>

#include <sys/time.h>
#include <unistd.h>

#include "child_process.hpp"
#include "emulator.hpp"
#include "forced_strategy.hpp"
#include "os_seam.hpp"
#include "testing.hpp"

namespace {

using asymfence::strategy;

constexpr int child_deadline_seconds = 30;

// System calls of the mechanism, and those that began while another was in
// progress on the same thread (so: from a handler that interrupted it).
std::atomic<long> mechanism_calls{0};
std::atomic<long> nested_calls{0};
thread_local int calls_in_progress = 0;
asymfence::detail::os_seam before_nesting;

struct in_progress {
  in_progress() {
    mechanism_calls.fetch_add(1);
    if (calls_in_progress++ > 0) nested_calls.fetch_add(1);
  }
  ~in_progress() { --calls_in_progress; }
};

long nesting_membarrier(int cmd, unsigned flags, int cpu_id) noexcept {
  in_progress call;
  return before_nesting.membarrier(cmd, flags, cpu_id);
}

int nesting_mprotect(void* addr, std::size_t len, int prot) noexcept {
  in_progress call;
  return before_nesting.mprotect(addr, len, prot);
}

double seconds_now() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// The handler calls heavy() until the deadline, then nothing: a handler that
// takes longer than the timer's interval (GLOBAL: about 10 ms) would otherwise
// keep the loop below from ever reaching its own deadline.
std::atomic<double> handler_deadline{0};
std::atomic<long> handler_heavy_calls{0};

void heavy_in_handler(int) {
  const int saved = errno;
  if (seconds_now() < handler_deadline.load()) {
    asymfence::heavy();
    handler_heavy_calls.fetch_add(1);
  }
  errno = saved;
}

// Runs in a child: the strategy forced, heavy() in a loop for `seconds`
// while a 1 ms timer calls heavy() from its handler. Returns 0 when nested
// calls happened and all finished.
int heavy_from_a_timer_while_heavy_runs(const char* forced_name, double seconds) {
  const asymfence::init_result r = asymfence::test::reselect_with_override(forced_name);
  if (!r) {
    std::printf("selection failed: %s\n", r.message);
    return 10;
  }
  before_nesting = asymfence::detail::os;
  asymfence::detail::os.membarrier = nesting_membarrier;
  asymfence::detail::os.mprotect = nesting_mprotect;

  struct sigaction action {};
  action.sa_handler = heavy_in_handler;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGALRM, &action, nullptr) != 0) return 11;
  const double deadline = seconds_now() + seconds;
  handler_deadline.store(deadline);
  itimerval every_millisecond{{0, 1000}, {0, 1000}};
  if (::setitimer(ITIMER_REAL, &every_millisecond, nullptr) != 0) return 12;
  long loop_calls = 0;
  while (seconds_now() < deadline) {
    asymfence::heavy();
    ++loop_calls;
  }
  itimerval off{};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  std::printf(
      "[ signals  ] %s: %ld heavy() calls in the loop, %ld from the handler; %ld system calls "
      "of the mechanism, %ld of them nested in another on the same thread\n",
      asymfence::to_string(r.selected), loop_calls, handler_heavy_calls.load(),
      mechanism_calls.load(), nested_calls.load());
  std::fflush(stdout);
  return handler_heavy_calls.load() > 0 && nested_calls.load() > 0 ? 0 : 1;
}

bool usable_here(strategy s, std::string* reason) {
  for (const asymfence::candidate_report& c : asymfence::selection().candidates) {
    if (c.id == s && !c.usable) {
      *reason = c.reason;
      return false;
    }
  }
  return true;
}

// Why the timer cases cannot run here, or "".
std::string reason_to_skip_timer(strategy s) {
  if (!asymfence::test::emulator_name().empty()) {
    return "signals are delivered by " + asymfence::test::emulator_name();
  }
  if (ASYMFENCE_TSAN) {
    return "ThreadSanitizer delivers asynchronous signals only at its own safe points, so a "
           "handler never interrupts heavy()";
  }
  std::string reason;
  if (!usable_here(s, &reason)) return std::string(asymfence::to_string(s)) + ": " + reason;
  return "";
}

asymfence::test::child_result run_timer_case(strategy s, double seconds) {
  return asymfence::test::run_in_child(
      [s, seconds] {
        return heavy_from_a_timer_while_heavy_runs(asymfence::to_string(s), seconds);
      },
      child_deadline_seconds);
}

void expect_nested_calls_finish(strategy s, double seconds) {
  const std::string skip = reason_to_skip_timer(s);
  if (!skip.empty()) GTEST_SKIP() << skip;
  const asymfence::test::child_result r = run_timer_case(s, seconds);
  std::printf("%s", r.output.c_str());
  EXPECT_TRUE(r.exited && r.code == 0)
      << "heavy() from a handler that interrupted heavy() did not finish (exit " << r.code
      << ", signal " << r.signal << "):\n"
      << r.output;
}

TEST(SignalHandler, HeavyInterruptedByAHandlerCallingHeavyFinishesWithPrivateExpedited) {
  expect_nested_calls_finish(strategy::membarrier_private_expedited, 1.5);
}

TEST(SignalHandler, HeavyInterruptedByAHandlerCallingHeavyFinishesWithGlobal) {
  expect_nested_calls_finish(strategy::membarrier_global, 1.5);
}

// The mprotect trick toggles one shared page: a nested barrier would change
// its protection under the interrupted one, so heavy() stops instead.
TEST(SignalHandler, HeavyInterruptedByAHandlerCallingHeavyStopsWithMprotect) {
  const std::string skip = reason_to_skip_timer(strategy::mprotect);
  if (!skip.empty()) GTEST_SKIP() << skip;
  const asymfence::test::child_result r = run_timer_case(strategy::mprotect, 1.5);
  std::printf("[ signals  ] mprotect: %s", r.output.c_str());
  ASSERT_TRUE(r.signaled && r.signal == SIGABRT)
      << "expected the documented stop (exit " << r.code << ", signal " << r.signal << "):\n"
      << r.output;
  EXPECT_NE(r.output.find("signal handler"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mprotect"), std::string::npos) << r.output;
}

// Selection is not async-signal-safe: a handler that calls heavy() while its
// own thread selects must stop the process, not wait for itself. The seam
// raises the signal from inside selection.
int raise_from_kernel_release(char* buf, std::size_t cap) noexcept {
  ::raise(SIGUSR1);
  return asymfence::detail::real_os().kernel_release(buf, cap);
}

void heavy_in_usr1_handler(int) { asymfence::heavy(); }

TEST(SignalHandler, HeavyFromAHandlerThatInterruptedSelectionStops) {
  const asymfence::test::child_result r = asymfence::test::run_in_child(
      [] {
        struct sigaction action {};
        action.sa_handler = heavy_in_usr1_handler;
        sigemptyset(&action.sa_mask);
        if (::sigaction(SIGUSR1, &action, nullptr) != 0) return 11;
        asymfence::detail::unselect_for_testing();
        asymfence::detail::os.kernel_release = raise_from_kernel_release;
        asymfence::init();
        return 0;
      },
      child_deadline_seconds);
  std::printf("[ signals  ] during selection: %s", r.output.c_str());
  ASSERT_TRUE(r.signaled && r.signal == SIGABRT)
      << "expected the documented stop (exit " << r.code << ", signal " << r.signal << "):\n"
      << r.output;
  EXPECT_NE(r.output.find("signal handler"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("selection"), std::string::npos) << r.output;
}

}  // namespace
