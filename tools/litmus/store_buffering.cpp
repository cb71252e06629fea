// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "store_buffering.hpp"

#include <asymfence/asymfence.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#elif defined(_WIN32)
#include <windows.h>
#endif

namespace asymfence::litmus {
namespace {

struct alignas(64) padded_counter {
  std::atomic<std::uint64_t> value{0};
};

struct shared_state {
  padded_counter x;
  padded_counter y;
  padded_counter arrivals;  // the per-iteration spin barrier
  padded_counter stop;      // set when the time limit passes
};

void run_side(shared_state& s, std::atomic<std::uint64_t>& mine,
              std::atomic<std::uint64_t>& theirs, barrier_function barrier,
              std::uint64_t iterations, std::uint64_t* seen, std::uint64_t& done) noexcept {
  std::uint64_t i = 1;
  for (; i <= iterations; ++i) {
    s.arrivals.value.fetch_add(1, std::memory_order_acq_rel);
    // Watch the stop flag while waiting too: a side that sees it only after
    // the other side has passed its check would otherwise wait forever.
    while (s.arrivals.value.load(std::memory_order_acquire) < 2 * i &&
           s.stop.value.load(std::memory_order_relaxed) == 0) {
    }
    if (s.stop.value.load(std::memory_order_relaxed) != 0) break;
    mine.store(i, std::memory_order_relaxed);
    barrier();
    seen[i - 1] = theirs.load(std::memory_order_relaxed);
  }
  done = i - 1;
}

}  // namespace

int nth_allowed_cpu(int n) noexcept {
  int seen = 0;
#if defined(__linux__)
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed) && seen++ == n) return cpu;
  }
#elif defined(_WIN32)
  DWORD_PTR allowed = 0;
  DWORD_PTR system = 0;
  if (!GetProcessAffinityMask(GetCurrentProcess(), &allowed, &system)) return -1;
  for (int cpu = 0; cpu < static_cast<int>(sizeof allowed * 8); ++cpu) {
    if ((allowed & (DWORD_PTR{1} << cpu)) != 0 && seen++ == n) return cpu;
  }
#else
  (void)n;
  (void)seen;
#endif
  return -1;
}

bool pin_to_nth_allowed_cpu(int n) noexcept {
  const int cpu = nth_allowed_cpu(n);
  if (cpu < 0) return false;
#if defined(__linux__)
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
#elif defined(_WIN32)
  return SetThreadAffinityMask(GetCurrentThread(), DWORD_PTR{1} << cpu) != 0;
#else
  return false;
#endif
}

outcome run_store_buffering(std::uint64_t iterations, barrier_function first,
                            barrier_function second, double time_limit_seconds) noexcept {
  outcome result;
  shared_state s;
  std::vector<std::uint64_t> seen_by_first(iterations);
  std::vector<std::uint64_t> seen_by_second(iterations);
  std::uint64_t done_first = 0;
  std::uint64_t done_second = 0;
  std::atomic<int> pinned{0};
  std::atomic<bool> finished{false};

  std::thread watchdog;
  if (time_limit_seconds > 0) {
    watchdog = std::thread([&] {
      auto deadline = std::chrono::steady_clock::now() +
                      std::chrono::duration<double>(time_limit_seconds);
      while (!finished.load(std::memory_order_acquire)) {
        if (std::chrono::steady_clock::now() >= deadline) {
          s.stop.value.store(1, std::memory_order_relaxed);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  std::thread a([&] {
    pinned += pin_to_nth_allowed_cpu(0) ? 1 : 0;
    run_side(s, s.x.value, s.y.value, first, iterations, seen_by_first.data(), done_first);
  });
  std::thread b([&] {
    pinned += pin_to_nth_allowed_cpu(1) ? 1 : 0;
    run_side(s, s.y.value, s.x.value, second, iterations, seen_by_second.data(), done_second);
  });
  a.join();
  b.join();
  finished.store(true, std::memory_order_release);
  if (watchdog.joinable()) watchdog.join();

  // A side may stop one iteration before the other; count only rounds both ran.
  result.iterations = done_first < done_second ? done_first : done_second;
  for (std::uint64_t i = 1; i <= result.iterations; ++i) {
    if (seen_by_first[i - 1] < i && seen_by_second[i - 1] < i) ++result.forbidden;
  }
  result.pinned = pinned.load() == 2;
  return result;
}

void compiler_barrier() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }
void seq_cst_fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }
void light_barrier() noexcept { asymfence::light(); }
void heavy_barrier() noexcept { asymfence::heavy(); }

outcome run_control(std::uint64_t iterations, double max_seconds) noexcept {
  return repeat_until_forbidden(
      [&] { return run_store_buffering(iterations, light_barrier, seq_cst_fence); },
      max_seconds);
}

}  // namespace asymfence::litmus
