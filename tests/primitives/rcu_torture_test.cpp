// SPDX-License-Identifier: Apache-2.0 OR MIT
// Torture in the manner of the kernel's rcutorture. Readers on long-lived and
// on short-lived threads run nested sections over a few slots; writers
// replace the slots' objects and reclaim the old ones through every path:
// retire, retire inside a read section, rcu_retire, rcu_synchronize then
// delete, and a polled grace period then delete. Reclaiming marks an object
// dead (and frees it under AddressSanitizer or ThreadSanitizer). Checks: no reader sees a dead
// object inside a section; after rcu_barrier everything retired has been reclaimed. The control
// skips the grace period and must show dead objects being read.
#include <gtest/gtest.h>

#include <asymfence/rcu.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "primitives/rcu_testing.hpp"

// Under a sanitizer the deleters free: AddressSanitizer then reports a read
// of a reclaimed object, ThreadSanitizer a read not ordered before the free.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TORTURE_FREES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TORTURE_FREES 1
#endif
#endif
#ifndef TORTURE_FREES
#define TORTURE_FREES 0
#endif

namespace {

constexpr int slot_count = 4;
constexpr int alive = 0x5a5a;
constexpr int dead = 0xdead;

struct counters {
  std::atomic<std::uint64_t> retired{0};    // handed to retire / rcu_retire
  std::atomic<std::uint64_t> reclaimed{0};  // their deleters ran
  std::atomic<std::uint64_t> dead_seen{0};  // a reader saw a dead object
  std::atomic<std::uint64_t> sections{0};
  std::atomic<std::uint64_t> replaced{0};
};
counters* active = nullptr;

struct totals {
  std::uint64_t retired, reclaimed, dead_seen, sections, replaced;
};

// Memory of dead objects when they are not freed, so that reads stay valid.
std::mutex graveyard_lock;
std::vector<struct item*> graveyard;

struct reclaim {
  bool free_memory = TORTURE_FREES;
  void operator()(struct item* p) const noexcept;
};

struct item : asymfence::rcu_obj_base<item, reclaim> {
  std::atomic<int> state{alive};
  std::uint64_t payload[6] = {1, 2, 3, 4, 5, 6};
};

void bury(item* p, bool free_memory) noexcept {
  p->state.store(dead, std::memory_order_relaxed);
  if (free_memory) {
    delete p;
  } else {
    std::lock_guard<std::mutex> g(graveyard_lock);
    graveyard.push_back(p);
  }
}

void reclaim::operator()(item* p) const noexcept {
  bury(p, free_memory);
  active->reclaimed.fetch_add(1, std::memory_order_relaxed);
}

std::atomic<item*> slots[slot_count];

void read_sections(int count, unsigned seed) {
  asymfence::rcu_domain& dom = asymfence::rcu_default_domain();
  for (int i = 0; i < count; ++i) {
    seed = seed * 1103515245u + 12345u;
    std::scoped_lock outer(dom);
    const int nested = static_cast<int>((seed >> 16) % 3);
    for (int n = 0; n < nested; ++n) dom.lock();
    for (auto& slot : slots) {
      item* p = slot.load(std::memory_order_acquire);
      std::uint64_t sum = 0;
      for (std::uint64_t v : p->payload) sum += v;
      for (int spin = 0; spin < static_cast<int>((seed >> 8) % 64); ++spin) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
      }
      if (p->state.load(std::memory_order_relaxed) != alive || sum != 21) {
        active->dead_seen.fetch_add(1, std::memory_order_relaxed);
      }
    }
    for (int n = 0; n < nested; ++n) dom.unlock();
    active->sections.fetch_add(1, std::memory_order_relaxed);
  }
}

// One writer; `skip_grace_period` is the control.
void write_updates(const std::atomic<bool>& stop, unsigned seed, bool skip_grace_period) {
  asymfence::rcu_domain& dom = asymfence::rcu_default_domain();
  for (unsigned i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    seed = seed * 1103515245u + 12345u;
    item* old = slots[(seed >> 16) % slot_count].exchange(new item, std::memory_order_acq_rel);
    active->replaced.fetch_add(1, std::memory_order_relaxed);
    if (skip_grace_period) {
      bury(old, false);  // no grace period: readers must be caught reading it
      continue;
    }
    switch (i % 5) {
      case 0:
        active->retired.fetch_add(1, std::memory_order_relaxed);
        old->retire();
        break;
      case 1: {
        active->retired.fetch_add(1, std::memory_order_relaxed);
        std::scoped_lock inside(dom);
        old->retire();  // retire inside a read section never blocks
        break;
      }
      case 2:
        active->retired.fetch_add(1, std::memory_order_relaxed);
        asymfence::rcu_retire(old, reclaim{});
        break;
      case 3:
        asymfence::rcu_synchronize();
        bury(old, TORTURE_FREES);
        break;
      case 4: {
        const asymfence::rcu_ticket t = asymfence::start_rcu_grace_period();
        while (!asymfence::rcu_grace_period_elapsed(t)) std::this_thread::yield();
        bury(old, TORTURE_FREES);
        break;
      }
    }
  }
}

totals torture(double seconds, bool skip_grace_period) {
  counters c;
  active = &c;
  for (auto& slot : slots) slot.store(new item, std::memory_order_relaxed);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {  // long-lived readers
    threads.emplace_back([&, r] {
      while (!stop.load(std::memory_order_relaxed)) read_sections(1000, 17u + r);
    });
  }
  threads.emplace_back([&] {  // short-lived readers: a new thread every few sections
    for (unsigned n = 0; !stop.load(std::memory_order_relaxed); ++n) {
      std::thread([n] { read_sections(200, n); }).join();
    }
  });
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] { write_updates(stop, 99u + w, skip_grace_period); });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (auto& t : threads) t.join();
  asymfence::rcu_barrier();
  for (auto& slot : slots) bury(slot.exchange(nullptr), TORTURE_FREES);
  {
    std::lock_guard<std::mutex> g(graveyard_lock);
    for (item* p : graveyard) delete p;
    graveyard.clear();
  }
  const totals out{c.retired.load(), c.reclaimed.load(), c.dead_seen.load(), c.sections.load(),
                   c.replaced.load()};
  active = nullptr;
  return out;
}

TEST(RcuTorture, NoReaderSeesReclaimedObjectAndBarrierReclaimsAll) {
  const std::uint64_t gp_before = asymfence::detail::rcu_grace_periods_for_testing();
  const totals real = torture(5.0, false);
  const std::uint64_t gps = asymfence::detail::rcu_grace_periods_for_testing() - gp_before;
  const totals control = torture(1.0, true);
  std::printf(
      "[ torture  ] real: %llu sections, %llu replacements, %llu retired, %llu reclaimed, %llu "
      "grace periods, %llu dead objects seen (frees: %s); control (no grace period): %llu "
      "sections, %llu dead objects seen\n",
      static_cast<unsigned long long>(real.sections),
      static_cast<unsigned long long>(real.replaced), static_cast<unsigned long long>(real.retired),
      static_cast<unsigned long long>(real.reclaimed), static_cast<unsigned long long>(gps),
      static_cast<unsigned long long>(real.dead_seen), TORTURE_FREES ? "yes" : "no",
      static_cast<unsigned long long>(control.sections),
      static_cast<unsigned long long>(control.dead_seen));
  EXPECT_GT(real.sections, 0u);
  EXPECT_GT(real.retired, 0u);
  EXPECT_EQ(real.dead_seen, 0u) << "a reader saw a reclaimed object inside its section";
  EXPECT_EQ(real.reclaimed, real.retired)
      << "rcu_barrier returned before every retired object was reclaimed";
  EXPECT_GT(control.dead_seen, 0u)
      << "the control never saw a dead object: the torture cannot detect violations";
}

}  // namespace
