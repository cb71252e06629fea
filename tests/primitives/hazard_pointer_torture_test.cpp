// SPDX-License-Identifier: Apache-2.0 OR MIT
// Hazard pointers under load: writers replace objects in shared cells and
// retire the old ones; readers on long-lived threads and on threads that come
// and go protect them (protect and try_protect, several hazard pointers per
// thread) and check a mark that the deleter sets. One variant keeps dead
// objects until the end so that readers can see the mark (0 must be seen);
// the other frees them at once, for AddressSanitizer to catch any use after
// free. After the threads are gone, hazard_pointer_clean_up() must leave
// nothing retired.
#include <gtest/gtest.h>

#include <asymfence/hazard_pointer.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace {

constexpr int cell_count = 8;
constexpr int hazard_pointers_per_reader = 3;

struct item;
struct item_deleter {
  void operator()(item* p) const noexcept;
};

struct item : asymfence::hazard_pointer_obj_base<item, item_deleter> {
  explicit item(std::uint64_t v) : value(v), check(~v) {}
  std::atomic<int> alive{1};
  std::uint64_t value;
  std::uint64_t check;  // ~value while alive
};

std::atomic<std::uint64_t> created{0};
std::atomic<std::uint64_t> retired{0};
std::atomic<std::uint64_t> reclaimed{0};
std::atomic<std::uint64_t> dead_seen{0};
std::atomic<std::uint64_t> torn_seen{0};
bool free_at_once = false;
std::mutex graveyard_lock;
std::vector<item*> graveyard;  // dead objects kept for readers to see the mark

void item_deleter::operator()(item* p) const noexcept {
  p->alive.store(0, std::memory_order_relaxed);
  p->check = 0;
  reclaimed.fetch_add(1, std::memory_order_relaxed);
  if (free_at_once) {
    delete p;
  } else {
    std::lock_guard<std::mutex> lock(graveyard_lock);
    graveyard.push_back(p);
  }
}

std::atomic<item*> cells[cell_count];

item* make_item(std::uint64_t v) {
  created.fetch_add(1, std::memory_order_relaxed);
  return new item(v);
}

void inspect(const item* p) {
  if (p->alive.load(std::memory_order_relaxed) == 0) dead_seen.fetch_add(1);
  if (p->check != ~p->value) torn_seen.fetch_add(1);
}

// Reads with every hazard pointer in turn, alternating protect and
// try_protect, and holding two protections at once.
void read_for(std::uint64_t rounds, std::uint64_t seed) {
  asymfence::hazard_pointer hps[hazard_pointers_per_reader];
  asymfence::make_hazard_pointer_batch(hps, hazard_pointers_per_reader);
  std::minstd_rand random(static_cast<std::uint32_t>(seed));
  for (std::uint64_t r = 0; r < rounds; ++r) {
    asymfence::hazard_pointer& a = hps[r % hazard_pointers_per_reader];
    asymfence::hazard_pointer& b = hps[(r + 1) % hazard_pointers_per_reader];
    std::atomic<item*>& first = cells[random() % cell_count];
    std::atomic<item*>& second = cells[random() % cell_count];
    item* p = a.protect(first);
    item* q = second.load(std::memory_order_relaxed);
    while (!b.try_protect(q, second)) {
    }
    inspect(p);
    inspect(q);
    if (r % 7 == 0) std::this_thread::yield();  // let a scan pass while protected
    inspect(p);
    a.reset_protection();
    b.reset_protection(nullptr);
  }
}

void write_for(std::atomic<bool>& stop, std::uint64_t seed) {
  std::minstd_rand random(static_cast<std::uint32_t>(seed));
  // Kept dead objects stay allocated until the end: bound their memory.
  const std::uint64_t limit = free_at_once ? UINT64_MAX : 1'000'000;
  for (std::uint64_t v = seed << 32, n = 0; !stop.load(std::memory_order_relaxed) && n < limit;
       ++v, ++n) {
    item* old = cells[random() % cell_count].exchange(make_item(v), std::memory_order_acq_rel);
    old->retire();
    retired.fetch_add(1, std::memory_order_relaxed);
  }
}

void torture(bool free_objects, std::chrono::milliseconds duration) {
  free_at_once = free_objects;
  created = retired = reclaimed = dead_seen = torn_seen = 0;
  for (auto& c : cells) c.store(make_item(0));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) threads.emplace_back(write_for, std::ref(stop), w + 1);
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&stop, r] {
      while (!stop.load(std::memory_order_relaxed)) read_for(1000, 100 + r);
    });
  }
  std::atomic<std::uint64_t> short_lived{0};
  threads.emplace_back([&] {
    for (std::uint64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
      std::thread([n] {
        read_for(200, 1000 + n);
        // A short-lived thread that also retires, leaving objects to hand over.
        item* old = cells[n % cell_count].exchange(make_item(n), std::memory_order_acq_rel);
        old->retire();
        retired.fetch_add(1, std::memory_order_relaxed);
      }).join();
      short_lived.fetch_add(1);
    }
  });
  std::this_thread::sleep_for(duration);
  stop.store(true);
  for (auto& t : threads) t.join();

  asymfence::hazard_pointer_clean_up();
  const std::uint64_t retired_total = retired.load();
  const std::uint64_t reclaimed_after_run = reclaimed.load();
  for (auto& c : cells) {
    c.exchange(nullptr)->retire();
  }
  asymfence::hazard_pointer_clean_up();
  std::printf(
      "[ torture  ] %s: %llu created, %llu retired by writers, %llu short-lived threads; "
      "%llu reclaimed after the run; dead seen %llu, torn seen %llu; after clean-up %llu "
      "of %llu reclaimed\n",
      free_objects ? "freed at once" : "kept dead", static_cast<unsigned long long>(created.load()),
      static_cast<unsigned long long>(retired_total),
      static_cast<unsigned long long>(short_lived.load()),
      static_cast<unsigned long long>(reclaimed_after_run),
      static_cast<unsigned long long>(dead_seen.load()),
      static_cast<unsigned long long>(torn_seen.load()),
      static_cast<unsigned long long>(reclaimed.load()),
      static_cast<unsigned long long>(created.load()));
  EXPECT_GT(retired_total, 1000u);
  EXPECT_GT(short_lived.load(), 0u);
  EXPECT_EQ(dead_seen.load(), 0u) << "a reader saw an object its deleter had run on";
  EXPECT_EQ(torn_seen.load(), 0u);
  EXPECT_EQ(reclaimed_after_run, retired_total)
      << "with no hazard pointer left, clean-up left objects retired";
  EXPECT_EQ(reclaimed.load(), created.load());
  for (item* p : graveyard) delete p;
  graveyard.clear();
}

TEST(HazardPointerTorture, DeadObjectsAreNeverSeen) { torture(false, std::chrono::seconds(3)); }

TEST(HazardPointerTorture, FreedObjectsAreNeverUsed) { torture(true, std::chrono::seconds(3)); }

}  // namespace
