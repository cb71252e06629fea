// SPDX-License-Identifier: Apache-2.0 OR MIT
// read_mostly_mutex under load: many mutexes, each guarding a pair that its
// writers keep equal; readers (lock_shared and try_lock_shared) must never see
// the pair torn. Writers use lock and try_lock; one thread holds every mutex
// shared at once (more than its record's slots, so some holds are counted);
// short-lived reader threads come and go. The control reads without the lock
// and must see torn pairs.
#include <gtest/gtest.h>

#include <asymfence/read_mostly_mutex.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "waiter.hpp"

namespace {

using asymfence::read_mostly_mutex;

constexpr int mutex_count = asymfence::read_mostly_slots * 2 + 2;

// Plain fields for the real run (ThreadSanitizer checks that the lock orders
// them); relaxed atomics for the control, whose unlocked reads would
// otherwise be a data race.
long get(const long& v) { return v; }
void set(long& v, long x) { v = x; }
long get(const std::atomic<long>& v) { return v.load(std::memory_order_relaxed); }
void set(std::atomic<long>& v, long x) { v.store(x, std::memory_order_relaxed); }

template <class Value>
struct guarded {
  read_mostly_mutex m;
  Value first{};
  Value second{};
};

struct counts {
  std::atomic<long> writes{0}, try_lock_fails{0}, reads{0}, try_shared_fails{0}, torn{0}, hoards{0},
      short_threads{0};
};

std::uint32_t next_random(std::uint32_t& s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

template <class Value>
bool torn(const guarded<Value>& g) {
  const long a = get(g.first);
  for (int i = 0; i < 4; ++i) asymfence::detail::cpu_relax();
  return a != get(g.second);
}

// Runs the torture for `seconds` (the control: until it sees a torn pair or
// `seconds` pass). With `locked` false, readers skip the lock.
template <class Value>
void torture(bool locked, double seconds, counts& c) {
  std::vector<guarded<Value>> objects(mutex_count);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;

  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      std::uint32_t rnd = 17u + static_cast<std::uint32_t>(w);
      for (long n = 1; !stop.load(std::memory_order_relaxed); ++n) {
        guarded<Value>& g = objects[next_random(rnd) % mutex_count];
        if (n % 4 == 0) {
          if (!g.m.try_lock()) {
            c.try_lock_fails.fetch_add(1, std::memory_order_relaxed);
            continue;
          }
        } else {
          g.m.lock();
        }
        const long v = get(g.first) + 1;
        set(g.first, v);
        for (int i = 0; i < 8; ++i) asymfence::detail::cpu_relax();  // widen the torn window
        set(g.second, v);
        g.m.unlock();
        c.writes.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  auto read_one = [&](guarded<Value>& g, bool try_only) {
    if (locked) {
      if (try_only) {
        if (!g.m.try_lock_shared()) {
          c.try_shared_fails.fetch_add(1, std::memory_order_relaxed);
          return;
        }
      } else {
        g.m.lock_shared();
      }
    }
    if (torn(g)) c.torn.fetch_add(1, std::memory_order_relaxed);
    if (locked) g.m.unlock_shared();
    c.reads.fetch_add(1, std::memory_order_relaxed);
  };

  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      std::uint32_t rnd = 91u + static_cast<std::uint32_t>(r);
      for (long n = 1; !stop.load(std::memory_order_relaxed); ++n) {
        read_one(objects[next_random(rnd) % mutex_count], n % 4 == 0);
      }
    });
  }

  // Holds every mutex shared at once: the first slots fill, the rest count.
  threads.emplace_back([&] {
    for (int round = 0; !stop.load(std::memory_order_relaxed); ++round) {
      if (locked) {
        for (auto& g : objects) g.m.lock_shared();
      }
      for (auto& g : objects) {
        if (torn(g)) c.torn.fetch_add(1, std::memory_order_relaxed);
      }
      if (locked) {
        // Release starting at a different mutex each round.
        for (int i = 0; i < mutex_count; ++i) objects[(i + round) % mutex_count].m.unlock_shared();
      }
      c.hoards.fetch_add(1, std::memory_order_relaxed);
    }
  });

  // Short-lived readers.
  threads.emplace_back([&] {
    std::uint32_t seed = 5;
    while (!stop.load(std::memory_order_relaxed)) {
      std::thread t([&, s = ++seed] {
        std::uint32_t rnd = s * 2654435761u | 1u;
        for (int i = 0; i < 100; ++i) read_one(objects[next_random(rnd) % mutex_count], i % 3 == 0);
      });
      t.join();
      c.short_threads.fetch_add(1, std::memory_order_relaxed);
    }
  });

  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start;
    if (spent.count() >= seconds || (!locked && c.torn.load() > 0)) break;
  }
  stop.store(true);
  for (auto& t : threads) t.join();
}

void print(const char* what, const counts& c) {
  std::printf(
      "[ torture  ] %s: %ld writes (%ld try_lock failures), %ld reads (%ld try_lock_shared "
      "failures), %ld all-mutex holds, %ld short-lived threads, %ld torn reads\n",
      what, c.writes.load(), c.try_lock_fails.load(), c.reads.load(), c.try_shared_fails.load(),
      c.hoards.load(), c.short_threads.load(), c.torn.load());
}

TEST(ReadMostlyMutexTorture, ReadersNeverSeeATornPair) {
  counts real;
  torture<long>(true, ASYMFENCE_TSAN ? 10.0 : 4.0, real);
  print("locked", real);
  EXPECT_EQ(real.torn.load(), 0) << "a reader saw a writer's half-done update";
  EXPECT_GT(real.writes.load(), 0) << "writers made no progress";
  EXPECT_GT(real.reads.load(), 0) << "readers made no progress";
  EXPECT_GT(real.hoards.load(), 0) << "the thread holding every mutex made no progress";
  EXPECT_GT(real.short_threads.load(), 0);
}

TEST(ReadMostlyMutexTorture, ControlReadersWithoutTheLockSeeTornPairs) {
  counts control;
  torture<std::atomic<long>>(false, 120.0, control);
  print("control (no lock)", control);
  EXPECT_GT(control.torn.load(), 0) << "unlocked readers never saw a torn pair: the test is blind";
}

}  // namespace
