// SPDX-License-Identifier: Apache-2.0 OR MIT
// read_mostly_mutex: the SharedMutex contract with the standard wrappers,
// the counted path beyond the record's slots, threads that come and go, a
// child after fork, and the fairness policy in both directions. Built as
// C++17 and as C++20.
#include <gtest/gtest.h>

#include <algorithm>
#include <asymfence/read_mostly_mutex.hpp>
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "child_process.hpp"
#include "emulator.hpp"
#include "primitives/read_mostly_mutex_internal.hpp"

namespace {

using asymfence::read_mostly_mutex;

static_assert(!std::is_copy_constructible_v<read_mostly_mutex>);
static_assert(!std::is_move_constructible_v<read_mostly_mutex>);
static_assert(!std::is_copy_assignable_v<read_mostly_mutex>);
static_assert(std::is_nothrow_default_constructible_v<read_mostly_mutex>);
static_assert(sizeof(read_mostly_mutex) == 16, "docs/read-mostly-mutex.md states the size");

// constexpr constructor: constant-initialised at namespace scope.
#if defined(__cpp_constinit)
constinit read_mostly_mutex global_mutex;
#else
read_mostly_mutex global_mutex;
#endif

TEST(ReadMostlyMutex, WorksWithTheStandardLockWrappers) {
  read_mostly_mutex m;
  int value = 0;
  {
    std::unique_lock<read_mostly_mutex> w(m);
    value = 1;
    EXPECT_FALSE(m.try_lock_shared()) << "a reader entered while a writer held the lock";
    EXPECT_FALSE(m.try_lock());
  }
  {
    std::shared_lock<read_mostly_mutex> r1(m);
    std::shared_lock<read_mostly_mutex> r2(global_mutex);
    EXPECT_EQ(value, 1);
    EXPECT_FALSE(m.try_lock()) << "a writer entered while a reader held the lock";
    std::thread other([&] {
      std::shared_lock<read_mostly_mutex> r3(m, std::try_to_lock);
      EXPECT_TRUE(r3.owns_lock()) << "readers exclude each other";
    });
    other.join();
  }
  {
    std::scoped_lock both(m, global_mutex);
    value = 2;
  }
  std::shared_lock<read_mostly_mutex> r(m, std::defer_lock);
  EXPECT_TRUE(r.try_lock());
  r.unlock();
  std::unique_lock<read_mostly_mutex> w(m, std::try_to_lock);
  EXPECT_TRUE(w.owns_lock());
}

TEST(ReadMostlyMutex, MoreSharedHoldsThanSlotsTakeTheCountedPath) {
  constexpr int n = asymfence::read_mostly_slots * 2 + 1;
  std::vector<std::unique_ptr<read_mostly_mutex>> mutexes;
  for (int i = 0; i < n; ++i) mutexes.push_back(std::make_unique<read_mostly_mutex>());
  for (int round = 0; round < 3; ++round) {
    for (auto& m : mutexes) m->lock_shared();
    for (auto& m : mutexes) EXPECT_FALSE(m->try_lock()) << "a held mutex let a writer in";
    // Release in an order other than the reverse (round 1: same order).
    if (round == 1) std::reverse(mutexes.begin(), mutexes.end());
    for (auto& m : mutexes) m->unlock_shared();
    for (auto& m : mutexes) {
      ASSERT_TRUE(m->try_lock()) << "a released mutex still looked held";
      m->unlock();
    }
  }
}

TEST(ReadMostlyMutex, ThreadsThatComeAndGoReuseRecords) {
  read_mostly_mutex m;
  long shared_value = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<std::thread> pool;
    const int threads = 1 + round % 4;  // a pool that grows and shrinks
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          std::shared_lock<read_mostly_mutex> r(m);
          EXPECT_EQ(shared_value % 2, 0);
        }
      });
    }
    {
      std::unique_lock<read_mostly_mutex> w(m);
      ++shared_value;
      ++shared_value;
    }
    for (auto& t : pool) t.join();
  }
  EXPECT_LE(asymfence::detail::read_mostly_records_for_testing(), 8u)
      << "records of exited threads were not reused";
}

TEST(ReadMostlyMutex, AThreadExitingWithASharedHoldKeepsItHeld) {
  read_mostly_mutex m;
  std::thread([&] { m.lock_shared(); }).join();
  EXPECT_FALSE(m.try_lock()) << "the exiting thread's hold was dropped";
  m.unlock_shared();  // released through the counter by another thread
  EXPECT_TRUE(m.try_lock());
  m.unlock();
}

TEST(ReadMostlyMutex, AChildAfterForkCanUseIt) {
  ASYMFENCE_SKIP_UNDER_EMULATOR("qemu-user aborts when a child of a multi-threaded fork starts a thread");
  static read_mostly_mutex held_by_other;  // another thread of the parent holds it shared
  static read_mostly_mutex held_by_self;   // the forking thread holds it shared
  std::atomic<bool> holding{false};
  std::atomic<bool> release{false};
  std::thread other([&] {
    held_by_other.lock_shared();
    holding.store(true);
    while (!release.load()) std::this_thread::yield();
    held_by_other.unlock_shared();
  });
  while (!holding.load()) std::this_thread::yield();
  held_by_self.lock_shared();
  const asymfence::test::child_result child = asymfence::test::run_in_child(
      [] {
        // The other thread does not exist in the child: its hold is gone.
        held_by_other.lock();
        held_by_other.unlock();
        if (held_by_self.try_lock()) return 2;  // still held by this thread
        held_by_self.unlock_shared();
        held_by_self.lock();
        held_by_self.unlock();
        // New threads in the child work too (ThreadSanitizer cannot start
        // threads in the child of a multithreaded process).
        read_mostly_mutex m;
        if (!ASYMFENCE_TSAN) {
          std::thread t([&] { std::shared_lock<read_mostly_mutex> r(m); });
          t.join();
        }
        std::unique_lock<read_mostly_mutex> w(m);
        return 0;
      },
      60);
  held_by_self.unlock_shared();
  release.store(true);
  other.join();
  EXPECT_TRUE(child.exited) << child.output;
  EXPECT_EQ(child.code, 0) << child.output;
}

// A continuous stream of readers whose sections overlap (some reader is
// always inside) must not keep a writer out: once its flag is up, new readers
// wait. A hang is turned into a failure by the child's deadline.
TEST(ReadMostlyMutex, AReaderStreamDoesNotStarveAWriter) {
  const asymfence::test::child_result child = asymfence::test::run_in_child(
      [] {
        read_mostly_mutex m;
        std::atomic<bool> stop{false};
        std::atomic<long> reads{0};
        std::vector<std::thread> readers;
        for (int t = 0; t < 3; ++t) {
          readers.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
              std::shared_lock<read_mostly_mutex> r(m);
              for (int i = 0; i < 200; ++i) asymfence::light();  // stay inside a while
              reads.fetch_add(1, std::memory_order_relaxed);
            }
          });
        }
        while (reads.load() < 1000) std::this_thread::yield();
        int writes = 0;
        for (; writes < 200; ++writes) {
          std::unique_lock<read_mostly_mutex> w(m);
        }
        stop.store(true);
        for (auto& t : readers) t.join();
        std::printf("writer: %d sections among %ld reader sections\n", writes, reads.load());
        std::fflush(stdout);
        return writes == 200 ? 0 : 1;
      },
      120);
  EXPECT_TRUE(child.exited) << "the writer starved (or hung): " << child.output;
  EXPECT_EQ(child.code, 0) << child.output;
  std::printf("%s", child.output.c_str());
}

// Writers that hammer the lock back to back must let a blocked reader in at
// the next unlock: a reader that starts waiting sees at most the section in
// progress and one more writer section (one that raised its flag before the
// reader registered) before it enters. The count is taken from outside the
// lock, so a reader preempted between reading the count and registering sees
// more: the bound must hold for nearly every section (a lock that preferred
// writers would let almost none through with three or fewer).
TEST(ReadMostlyMutex, ReadersGetInBetweenWriters) {
  const asymfence::test::child_result child = asymfence::test::run_in_child(
      [] {
        read_mostly_mutex m;
        std::atomic<bool> stop{false};
        std::atomic<long> write_sections{0};
        std::vector<std::thread> writers;
        for (int t = 0; t < 2; ++t) {
          writers.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
              std::unique_lock<read_mostly_mutex> w(m);
              write_sections.fetch_add(1, std::memory_order_relaxed);
            }
          });
        }
        // Read only once the writers are hammering.
        while (write_sections.load() < 100) std::this_thread::yield();
        long worst = 0;
        long over_bound = 0;
        long reads = 0;
        for (; reads < 2000; ++reads) {
          const long before = write_sections.load();
          m.lock_shared();
          const long passed = write_sections.load() - before;
          m.unlock_shared();
          worst = std::max(worst, passed);
          over_bound += passed > 3 ? 1 : 0;
        }
        const long total = write_sections.load();
        stop.store(true);
        for (auto& t : writers) t.join();
        std::printf(
            "reader: %ld sections; more than 3 writer sections passed while one waited: %ld "
            "times (most: %ld; %ld writer sections in all)\n",
            reads, over_bound, worst, total);
        std::fflush(stdout);
        return over_bound <= reads / 20 ? 0 : 1;
      },
      120);
  EXPECT_TRUE(child.exited) << "the reader starved (or hung): " << child.output;
  EXPECT_EQ(child.code, 0) << child.output;
  std::printf("%s", child.output.c_str());
}

}  // namespace
