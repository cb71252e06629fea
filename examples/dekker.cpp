// SPDX-License-Identifier: Apache-2.0 OR MIT
// Dekker-style mutual exclusion between a fast side that enters often and a
// slow side that enters rarely (a biased lock, a safepoint). Each side raises
// its flag, then reads the other's:
//
//   fast: fast_wants = true; light();  slow_wants?  (A)
//   slow: slow_wants = true; heavy();  fast_wants?  (B)
//
// Both reading false, and entering together, is the store-buffering outcome
// that the light/heavy pair forbids, so the fast side needs no fence. When
// both want in, the fast side backs off until the slow side is done.
//
// The critical section checks that it is alone and increments a counter with
// a separate load and store, which would lose counts if both sides were
// inside at once. The program exits with 1 on any overlap or lost count.
#include <asymfence/asymfence.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace {

constexpr auto run_time = std::chrono::milliseconds(500);

alignas(64) std::atomic<bool> fast_wants{false};
alignas(64) std::atomic<bool> slow_wants{false};
alignas(64) std::atomic<int> inside{0};
alignas(64) std::atomic<unsigned long> count{0};
std::atomic<unsigned long> overlaps{0};
std::atomic<bool> fast_running{false};
std::atomic<bool> stop{false};

void critical_section() {
  if (inside.fetch_add(1, std::memory_order_relaxed) != 0) overlaps.fetch_add(1);
  count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  inside.fetch_sub(1, std::memory_order_relaxed);
}

unsigned long fast_side() {
  unsigned long rounds = 0;
  fast_running.store(true, std::memory_order_relaxed);
  while (!stop.load(std::memory_order_relaxed)) {
    fast_wants.store(true, std::memory_order_relaxed);
    asymfence::light();  // A: pairs with B
    if (slow_wants.load(std::memory_order_acquire)) {
      fast_wants.store(false, std::memory_order_release);  // back off
      while (slow_wants.load(std::memory_order_acquire)) std::this_thread::yield();
      continue;
    }
    critical_section();
    fast_wants.store(false, std::memory_order_release);
    ++rounds;
  }
  return rounds;
}

unsigned long slow_side() {
  unsigned long rounds = 0;
  auto deadline = std::chrono::steady_clock::now() + run_time;
  while (std::chrono::steady_clock::now() < deadline) {
    slow_wants.store(true, std::memory_order_relaxed);
    asymfence::heavy();  // B: pairs with A
    while (fast_wants.load(std::memory_order_acquire)) std::this_thread::yield();
    critical_section();
    slow_wants.store(false, std::memory_order_release);
    ++rounds;
  }
  return rounds;
}

}  // namespace

int main() {
  // Select and register before any thread starts (registering later is slower).
  if (asymfence::init_result r = asymfence::init(); !r) {
    std::fprintf(stderr, "dekker: no sound heavy barrier: %s\n", r.message);
    return 1;
  }
  unsigned long fast_rounds = 0;
  std::thread fast([&] { fast_rounds = fast_side(); });
  while (!fast_running.load(std::memory_order_relaxed)) std::this_thread::yield();
  unsigned long slow_rounds = slow_side();
  stop.store(true, std::memory_order_relaxed);
  fast.join();

  unsigned long expected = fast_rounds + slow_rounds;
  std::printf("dekker: %s, %lu fast and %lu slow entries, %lu counted, %lu overlaps\n",
              asymfence::to_string(asymfence::active_strategy()), fast_rounds, slow_rounds,
              count.load(), overlaps.load());
  if (overlaps.load() != 0 || count.load() != expected) {
    std::fprintf(stderr, "dekker: both sides were in the critical section at once\n");
    return 1;
  }
  if (fast_rounds == 0 || slow_rounds == 0) {
    std::fprintf(stderr, "dekker: a side never entered: nothing was exercised\n");
    return 1;
  }
  return 0;
}
