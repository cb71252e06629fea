// SPDX-License-Identifier: Apache-2.0 OR MIT
// Single writer, many readers: the readers' hot path pays no fence.
//
// The writer replaces the shared configuration now and then and must not
// retire the old one while a reader still uses it. Each reader announces what
// it uses in its own hazard slot, then checks that the configuration is still
// current; the writer swaps the configuration, then scans the slots:
//
//   reader: slot = c;        light();  still current?  (A)
//   writer: current = fresh; heavy();  any slot == old? (B)
//
// Both sides missing the other's store is the store-buffering outcome that
// the light/heavy pair forbids: either the reader sees the fresh
// configuration and retries, or the writer sees the slot and waits.
//
// So that a broken barrier shows up as a counted violation rather than a
// use-after-free, the writer marks an old configuration retired (where a real
// program would free it) and frees them all at exit. The program exits with 1
// if a reader ever used a retired configuration.
#include <asymfence/asymfence.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

namespace {

struct config {
  unsigned long version = 0;
  std::atomic<bool> retired{false};
};

struct alignas(64) hazard_slot {
  std::atomic<config*> in_use{nullptr};
  unsigned long reads = 0;  // written by its reader only
};

constexpr int reader_count = 2;
constexpr unsigned long max_versions = 20000;
constexpr auto run_time = std::chrono::milliseconds(500);

std::atomic<config*> current{nullptr};
hazard_slot slots[reader_count];
std::atomic<int> readers_running{0};
std::atomic<bool> stop{false};
std::atomic<unsigned long> violations{0};

void reader(hazard_slot& slot) {
  readers_running.fetch_add(1, std::memory_order_relaxed);
  while (!stop.load(std::memory_order_relaxed)) {
    config* c = current.load(std::memory_order_acquire);
    slot.in_use.store(c, std::memory_order_relaxed);
    asymfence::light();  // A: pairs with B
    if (current.load(std::memory_order_acquire) != c) continue;  // replaced meanwhile: retry
    // Protected: the writer does not retire c while the slot holds it.
    if (c->retired.load(std::memory_order_relaxed)) violations.fetch_add(1);
    ++slot.reads;
    slot.in_use.store(nullptr, std::memory_order_release);  // done with c
  }
}

// Publishes new versions after the first for run_time; `made` holds every
// configuration, the first included.
void writer(std::vector<std::unique_ptr<config>>& made) {
  auto deadline = std::chrono::steady_clock::now() + run_time;
  while (made.size() < max_versions && std::chrono::steady_clock::now() < deadline) {
    auto fresh = std::make_unique<config>();
    fresh->version = made.size();
    config* old = current.exchange(fresh.get(), std::memory_order_acq_rel);
    made.push_back(std::move(fresh));
    asymfence::heavy();  // B: pairs with A
    for (hazard_slot& slot : slots) {
      while (slot.in_use.load(std::memory_order_acquire) == old) std::this_thread::yield();
    }
    old->retired.store(true, std::memory_order_relaxed);  // where a real program frees it
  }
}

}  // namespace

int main() {
  // Select and register before any thread starts (registering later is slower).
  if (asymfence::init_result r = asymfence::init(); !r) {
    std::fprintf(stderr, "publish: no sound heavy barrier: %s\n", r.message);
    return 1;
  }
  std::vector<std::unique_ptr<config>> made;
  made.push_back(std::make_unique<config>());
  current.store(made.back().get(), std::memory_order_release);
  std::vector<std::thread> readers;
  for (hazard_slot& slot : slots) readers.emplace_back(reader, std::ref(slot));
  while (readers_running.load(std::memory_order_relaxed) < reader_count) {
    std::this_thread::yield();
  }
  writer(made);
  stop.store(true, std::memory_order_relaxed);
  for (std::thread& t : readers) t.join();

  unsigned long reads = 0;
  for (const hazard_slot& slot : slots) reads += slot.reads;
  std::printf("publish: %s, %lu versions published, %lu protected reads, %lu violations\n",
              asymfence::to_string(asymfence::active_strategy()), made.size() - 1, reads,
              violations.load());
  if (violations.load() != 0) {
    std::fprintf(stderr, "publish: a reader used a retired configuration\n");
    return 1;
  }
  if (made.size() < 2 || reads == 0) {
    std::fprintf(stderr, "publish: nothing was exercised\n");
    return 1;
  }
  return 0;
}
