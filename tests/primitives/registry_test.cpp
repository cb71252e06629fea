// SPDX-License-Identifier: Apache-2.0 OR MIT
// The per-thread registry: records are recycled when threads exit, scanners
// see the records that threads hold, and a child process (made with fork() or
// without its handlers) keeps only the forking thread's records.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "primitives/thread_registry.hpp"

namespace asymfence::detail {
namespace {

struct test_record : registry_node {
  std::atomic<int> value{0};
  static inline std::atomic<int> exits{0};
  static inline thread_local test_record* mine = nullptr;
  static void on_owner_exit(test_record& r) noexcept {
    exits.fetch_add(1);
    r.value.store(0);
    mine = nullptr;
  }
  static void reset(test_record& r) noexcept { r.value.store(0); }
};

thread_registry<test_record> registry;

test_record& my_record() {
  if (test_record::mine == nullptr) test_record::mine = registry.acquire();
  return *test_record::mine;
}

int held_with_value(int value) {
  int count = 0;
  registry.for_each_in_use([&](test_record& r) { count += r.value.load() == value ? 1 : 0; });
  return count;
}

TEST(ThreadRegistry, RecordsAreRecycledWhenThreadsExit) {
  const int exits_before = test_record::exits.load();
  for (int round = 0; round < 50; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([] { my_record().value.store(7); });
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(test_record::exits.load() - exits_before, 200);
  // Four threads at a time, plus this thread's if any: the list stays small.
  EXPECT_LE(registry.size(), 5u);
  EXPECT_EQ(held_with_value(7), 0);
}

TEST(ThreadRegistry, ScannersSeeHeldRecords) {
  std::atomic<int> ready{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      my_record().value.store(42);
      ready.fetch_add(1);
      while (!done.load()) std::this_thread::yield();
    });
  }
  while (ready.load() < 3) std::this_thread::yield();
  EXPECT_EQ(held_with_value(42), 3);
  done.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(held_with_value(42), 0);
}

// Waits up to 30 s for the child; its exit code, or -1 (killed, or a hang).
int wait_for_child(pid_t pid) {
  for (int i = 0; i < 3000; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

// Two threads hold records with value 9 and stay parked while this thread
// forks the way under test; the child reports how many records still show 9
// besides its own: 0 is right.
template <class Fork>
int fork_while_others_hold(Fork make_child) {
  std::atomic<int> ready{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      my_record().value.store(9);
      ready.fetch_add(1);
      while (!done.load()) std::this_thread::yield();
    });
  }
  while (ready.load() < 2) std::this_thread::yield();
  my_record().value.store(9);
  pid_t pid = make_child();
  if (pid == 0) {
    int mine = my_record().value.load() == 9 ? 1 : 0;
    int others = held_with_value(9) - mine;
    _exit(mine == 1 ? others : 50);
  }
  int code = wait_for_child(pid);
  done.store(true);
  for (auto& t : threads) t.join();
  my_record().value.store(0);
  return code;
}

TEST(ThreadRegistry, ForkKeepsOnlyTheForkingThreadsRecords) {
  EXPECT_EQ(fork_while_others_hold([] { return fork(); }), 0)
      << "records of the parent's other threads still held in the child (50: its own lost)";
}

TEST(ThreadRegistry, ForkWithoutHandlersIsRepairedByTheScan) {
  EXPECT_EQ(fork_while_others_hold([] { return _Fork(); }), 0)
      << "records of the parent's other threads still held in the child (50: its own lost)";
}

}  // namespace
}  // namespace asymfence::detail
