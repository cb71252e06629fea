// SPDX-License-Identifier: Apache-2.0 OR MIT
// fork() from a multi-threaded parent whose other threads are inside heavy():
// the child has only the forking thread, so any barrier, lock or waiter state
// that another parent thread held must not make the child's heavy() hang or
// crash. Each child calls heavy() and proves, through the counting seam, that
// its barriers reached the mechanism. The same holds for children made without
// the pthread_atfork handlers (_Fork(), the raw fork system call), and for a
// child forked while another thread of the parent is selecting the strategy.
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_process.hpp"
#include "emulator.hpp"
#include "forced_strategy.hpp"
#include "mechanism_barriers.hpp"
#include "testing.hpp"

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

// The child's body: heavy() a few times, each reaching the mechanism; with
// poll_first, first a ticket polled until complete (so that the first call to
// meet a barrier copied from the parent is a poll). Exit codes say what went
// wrong; 0 is success. Prints "in flight at fork: N".
int child_body(strategy expected, bool poll_first) {
  // write(2), not stdio: the child exits with _exit(), and its stdio buffer
  // may still hold the parent's unflushed output. The first line comes
  // before any call, so that it shows also for a child that hangs.
  char line[160];
  int len = std::snprintf(line, sizeof line, "in flight at fork: %d\n", in_flight.load());
  if (len > 0) (void)!::write(STDOUT_FILENO, line, static_cast<std::size_t>(len));
  if (poll_first) {
    const asymfence::heavy_ticket ticket = asymfence::start_heavy();
    while (!asymfence::heavy_completed(ticket)) std::this_thread::yield();
  }
  asymfence::test::counts().reset();
  const asymfence::statistics before = asymfence::stats();
  for (int i = 0; i < heavy_calls_per_child; ++i) asymfence::heavy();
  const asymfence::statistics after = asymfence::stats();
  len =
      std::snprintf(line, sizeof line, "barriers %llu, by the mechanism %llu\n",
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
      asymfence::test::child_result r = asymfence::test::run_in_child(
          [s, i] { return child_body(s, i % 2 == 1); }, child_timeout_seconds);
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

bool usable_here(strategy s, std::string* reason) {
  for (const asymfence::candidate_report& c : asymfence::selection().candidates) {
    if (c.id == s && !c.usable) {
      *reason = c.reason;
      return false;
    }
  }
  return true;
}

TEST(Fork, ChildrenOfAParentInsideHeavyCanCallHeavyWithMprotect) {
  std::string reason;
  if (!usable_here(strategy::mprotect, &reason)) GTEST_SKIP() << "mprotect: " << reason;
  fork_while_heavy_runs("mprotect");
}

// ---------------------------------------------------------------------------
// Children made without the pthread_atfork handlers. _Fork() (glibc >= 2.34)
// and the fork system call made directly (a clone() without CLONE_VM) copy
// the parent's memory and run no handler, so whatever the library repairs
// only in an atfork handler stays as another thread of the parent left it.

enum class fork_kind { underscore_fork, system_call };

const char* name_of(fork_kind kind) {
  return kind == fork_kind::underscore_fork ? "_Fork()" : "the fork system call";
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
constexpr bool have_underscore_fork = true;
pid_t underscore_fork() { return ::_Fork(); }
#else
constexpr bool have_underscore_fork = false;
pid_t underscore_fork() { return -1; }
#endif

// ThreadSanitizer intercepts fork() only: after _Fork() or the fork system
// call it takes the parent's other threads for live ones in the child and
// reports their last accesses as races with the child's.
#define SKIP_UNDER_THREAD_SANITIZER()                                                       \
  do {                                                                                      \
    if (ASYMFENCE_TSAN) {                                                                   \
      GTEST_SKIP() << "ThreadSanitizer does not intercept _Fork() or the fork system call"; \
    }                                                                                       \
  } while (0)

pid_t fork_without_handlers(fork_kind kind) {
  if (kind == fork_kind::underscore_fork) return underscore_fork();
#if defined(SYS_fork)
  return static_cast<pid_t>(::syscall(SYS_fork));
#else
  return static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
#endif
}

struct reaped {
  int finished = 0;  // exited with status 0
  int failed = 0;    // exited otherwise, or killed by a signal
  int hung = 0;      // still running at the deadline (then killed)
};

// Waits for every child until the deadline, then kills the ones still running.
reaped reap_with_deadline(const std::vector<pid_t>& pids, int seconds) {
  reaped r;
  std::vector<pid_t> running = pids;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!running.empty() && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < running.size();) {
      int status = 0;
      if (::waitpid(running[i], &status, WNOHANG) == running[i]) {
        (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? r.finished : r.failed) += 1;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (pid_t pid : running) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ++r.hung;
  }
  return r;
}

constexpr int unhandled_children = 10;
constexpr int unhandled_child_seconds = 20;

// Runs in a child of the test process, which keeps the forced strategy and
// the grandchildren away from the test process: one thread loops on heavy()
// while this one makes children without atfork handlers, each as soon as a
// barrier is in flight; every child calls heavy() (every other one polls a
// ticket first) and exits. Returns 0 when all finished in time.
int fork_without_handlers_while_heavy_runs(const char* forced_name, fork_kind kind,
                                           bool pid_marks) {
  if (pid_marks) asymfence::detail::use_pid_marks_for_testing();
  const asymfence::init_result r = asymfence::test::reselect_with_override(forced_name);
  if (!r) {
    std::printf("selection failed: %s\n", r.message);
    return 10;
  }
  before_tracking = asymfence::detail::os;
  asymfence::detail::os.membarrier = tracking_membarrier;
  asymfence::detail::os.mprotect = tracking_mprotect;
  asymfence::test::install_counting_seam();

  std::atomic<bool> stop{false};
  std::thread looping([&] {
    while (!stop.load(std::memory_order_relaxed)) asymfence::heavy();
  });
  std::vector<pid_t> pids;
  std::fflush(stdout);
  for (int i = 0; i < unhandled_children; ++i) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (in_flight.load() == 0 && std::chrono::steady_clock::now() < give_up) {
    }
    const pid_t pid = fork_without_handlers(kind);
    if (pid == 0) ::_exit(child_body(r.selected, i % 2 == 1));
    if (pid > 0) pids.push_back(pid);
  }
  const reaped done = reap_with_deadline(pids, unhandled_child_seconds);
  stop.store(true);
  looping.join();
  std::printf("[ children ] %s, %s: %d made, %d finished, %d failed, %d hung\n",
              asymfence::to_string(r.selected), name_of(kind), static_cast<int>(pids.size()),
              done.finished, done.failed, done.hung);
  std::fflush(stdout);
  return pids.size() == unhandled_children && done.finished == unhandled_children ? 0 : 1;
}

// Children that report "in flight at fork: N" with N > 0.
int forked_while_in_flight(const std::string& output) {
  int count = 0;
  for (std::size_t at = output.find("in flight at fork: "); at != std::string::npos;
       at = output.find("in flight at fork: ", at + 1)) {
    int n = 0;
    if (std::sscanf(output.c_str() + at, "in flight at fork: %d", &n) == 1 && n > 0) ++count;
  }
  return count;
}

struct unhandled_case {
  const char* strategy_name;
  fork_kind kind;
  bool pid_marks;  // as on a kernel without MADV_WIPEONFORK
};

[[maybe_unused]] void PrintTo(const unhandled_case& c, std::ostream* out) {
  *out << c.strategy_name << ", " << name_of(c.kind) << (c.pid_marks ? ", pid marks" : "");
}

class ForkWithoutHandlers : public ::testing::TestWithParam<unhandled_case> {};

// qemu-user answers madvise(MADV_WIPEONFORK) with success and ignores it, so
// under it only children made by fork() (whose atfork handler clears the
// marks) and the pid-mark variants can tell copied work from their own.
constexpr const char* qemu_ignores_wipeonfork =
    "the emulator accepts MADV_WIPEONFORK and ignores it, so a child made without atfork "
    "handlers cannot tell its parent's marks from its own (the pid-mark variants still run)";

TEST_P(ForkWithoutHandlers, ChildrenOfAParentInsideHeavyFinish) {
  SKIP_UNDER_THREAD_SANITIZER();
  const unhandled_case c = GetParam();
  if (c.kind == fork_kind::underscore_fork && !have_underscore_fork) {
    GTEST_SKIP() << "_Fork() needs glibc >= 2.34";
  }
  std::string reason;
  const strategy wanted = c.strategy_name == std::string("mprotect") ? strategy::mprotect
                          : c.strategy_name == std::string("membarrier_global")
                              ? strategy::membarrier_global
                              : strategy::membarrier_private_expedited;
  if (!usable_here(wanted, &reason)) GTEST_SKIP() << c.strategy_name << ": " << reason;
  if (!c.pid_marks) ASYMFENCE_SKIP_UNDER_EMULATOR(qemu_ignores_wipeonfork);
  const asymfence::test::child_result r = asymfence::test::run_in_child(
      [c] { return fork_without_handlers_while_heavy_runs(c.strategy_name, c.kind, c.pid_marks); },
      unhandled_child_seconds + 60);
  const int inside_heavy = forked_while_in_flight(r.output);
  std::printf("%s[ children ] %d forked while a barrier was in flight\n",
              r.output.substr(r.output.find("[ children ]")).c_str(), inside_heavy);
  std::fflush(stdout);
  EXPECT_TRUE(r.exited && r.code == 0)
      << "children made with " << name_of(c.kind) << " did not all finish (exit " << r.code
      << ", signal " << r.signal << "):\n"
      << r.output;
  EXPECT_GT(inside_heavy, 0) << "no fork happened inside heavy(): the test proved nothing";
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ForkWithoutHandlers,
    ::testing::Values(
        unhandled_case{"membarrier_private_expedited", fork_kind::underscore_fork, false},
        unhandled_case{"membarrier_private_expedited", fork_kind::system_call, false},
        unhandled_case{"membarrier_global", fork_kind::underscore_fork, false},
        unhandled_case{"membarrier_global", fork_kind::system_call, false},
        unhandled_case{"mprotect", fork_kind::underscore_fork, false},
        unhandled_case{"membarrier_private_expedited", fork_kind::underscore_fork, true}),
    [](const ::testing::TestParamInfo<unhandled_case>& info) {
      return std::string(info.param.strategy_name) +
             (info.param.kind == fork_kind::underscore_fork ? "_UnderscoreFork" : "_SystemCall") +
             (info.param.pid_marks ? "_PidMarks" : "");
    });

// A child forked while another thread of the parent is inside selection.
// The selecting thread waits in the seam (kernel_release, which selection
// calls once) until the children have been made.
std::atomic<bool> selection_entered{false};
std::atomic<bool> selection_may_go_on{false};
pid_t selecting_process = 0;

int waiting_kernel_release(char* buf, std::size_t cap) noexcept {
  if (::getpid() == selecting_process) {
    selection_entered.store(true);
    while (!selection_may_go_on.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return asymfence::detail::real_os().kernel_release(buf, cap);
}

constexpr int children_during_selection = 3;

int fork_without_handlers_during_selection(fork_kind kind, bool pid_marks) {
  if (pid_marks) asymfence::detail::use_pid_marks_for_testing();
  selecting_process = ::getpid();
  asymfence::detail::unselect_for_testing();
  asymfence::detail::os.kernel_release = waiting_kernel_release;
  std::thread selector([] { asymfence::init(); });
  while (!selection_entered.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<pid_t> pids;
  std::fflush(stdout);
  for (int i = 0; i < children_during_selection; ++i) {
    const pid_t pid = fork_without_handlers(kind);
    if (pid == 0) {
      asymfence::heavy();
      asymfence::heavy();
      ::_exit(asymfence::active_strategy() == strategy::none ? 2 : 0);
    }
    if (pid > 0) pids.push_back(pid);
  }
  const reaped done = reap_with_deadline(pids, unhandled_child_seconds);
  selection_may_go_on.store(true);
  selector.join();
  std::printf(
      "[ children ] forked during selection with %s%s: %d made, %d finished, %d failed, "
      "%d hung; the parent selected %s\n",
      name_of(kind), pid_marks ? " (pid marks)" : "", static_cast<int>(pids.size()), done.finished,
      done.failed, done.hung, asymfence::to_string(asymfence::active_strategy()));
  std::fflush(stdout);
  return pids.size() == children_during_selection && done.finished == children_during_selection ? 0
                                                                                                : 1;
}

TEST(ForkWithoutHandlers, ChildrenOfAParentInsideSelectionFinish) {
  SKIP_UNDER_THREAD_SANITIZER();
  struct variant {
    fork_kind kind;
    bool pid_marks;
  };
  for (variant v :
       {variant{fork_kind::underscore_fork, false}, variant{fork_kind::system_call, false},
        variant{fork_kind::system_call, true}}) {
    const fork_kind kind = v.kind;
    if (kind == fork_kind::underscore_fork && !have_underscore_fork) continue;
    if (!v.pid_marks && !asymfence::test::emulator_name().empty()) continue;  // see below
    const asymfence::test::child_result r = asymfence::test::run_in_child(
        [v] { return fork_without_handlers_during_selection(v.kind, v.pid_marks); },
        unhandled_child_seconds + 60);
    std::printf("%s", r.output.c_str());
    std::fflush(stdout);  // a later child would write the buffered text again
    EXPECT_TRUE(r.exited && r.code == 0)
        << "children made with " << name_of(kind) << " during selection did not all finish (exit "
        << r.code << ", signal " << r.signal << "):\n"
        << r.output;
  }
}

}  // namespace
