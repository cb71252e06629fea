// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "workloads.hpp"

#include <algorithm>
#include <cstdint>
#include <ctime>

#include <asymfence/diagnostics.hpp>

#if defined(__linux__)
#include <sched.h>
#endif

namespace asymfence::bench {
namespace {

double wall_ns() noexcept {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

double thread_cpu_ns() noexcept {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec now{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0) {
    return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
  }
#endif
  return wall_ns();
}

namespace {

#if defined(__linux__)
std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

// Pins the calling thread to `cpus` (all of them); false if it cannot.
bool pin_to(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}
#endif

}  // namespace

spinning_threads::spinning_threads(int count) : cpu_ns_(static_cast<std::size_t>(count)) {
#if defined(__linux__)
  cpus_ = allowed_cpus();
  if (cpus_.size() >= 2) caller_pinned_ = pin_to({cpus_.front()});
#endif
  for (int i = 0; i < count; ++i) {
    threads_.emplace_back([this, i] {
#if defined(__linux__)
      if (caller_pinned_) pin_to({cpus_[1 + static_cast<std::size_t>(i) % (cpus_.size() - 1)]});
#endif
      double start = thread_cpu_ns();
      running_.fetch_add(1, std::memory_order_relaxed);
      while (!stop_.load(std::memory_order_relaxed)) {
      }
      cpu_ns_[static_cast<std::size_t>(i)] = thread_cpu_ns() - start;
    });
  }
  while (running_.load(std::memory_order_relaxed) < count) std::this_thread::yield();
  started_ns_ = wall_ns();
}

double spinning_threads::stop() {
  if (stopped_) return 1;
  stopped_ = true;
  stop_.store(true, std::memory_order_relaxed);
  double elapsed = wall_ns() - started_ns_;
  for (std::thread& t : threads_) t.join();
#if defined(__linux__)
  if (caller_pinned_) pin_to(cpus_);
#endif
  if (cpu_ns_.empty() || elapsed <= 0) return 1;
  double sum = 0;
  for (double ns : cpu_ns_) sum += ns;
  return std::min(1.0, sum / static_cast<double>(cpu_ns_.size()) / elapsed);
}

spinning_threads::~spinning_threads() { stop(); }

std::vector<strategy> usable_strategies() {
  std::vector<strategy> usable;
  for (const candidate_report& c : selection().candidates) {
    if (c.usable) usable.push_back(c.id);
  }
  return usable;
}

throughput run_concurrently(int threads, call_function call, double seconds) {
  // Each thread publishes its count after every call, so that the window can
  // be closed at once: calls still running when it closes (a thread preempted
  // or asleep) do not stretch it.
  struct alignas(64) per_thread {
    std::atomic<std::uint64_t> calls{0};
    std::atomic<int> failures{0};
  };
  std::vector<per_thread> counts(static_cast<std::size_t>(threads));
  alignas(64) std::atomic<int> ready{0};
  alignas(64) std::atomic<bool> go{false};
  alignas(64) std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      per_thread& mine = counts[static_cast<std::size_t>(i)];
      ready.fetch_add(1, std::memory_order_relaxed);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      std::uint64_t done = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (call() == 0) {
          mine.calls.store(++done, std::memory_order_relaxed);
        } else {
          mine.failures.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  while (ready.load(std::memory_order_relaxed) < threads) std::this_thread::yield();
  statistics before = stats();
  auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));

  throughput total;
  std::uint64_t slowest = UINT64_MAX;
  for (const per_thread& c : counts) {
    std::uint64_t n = c.calls.load(std::memory_order_relaxed);
    total.calls += n;
    slowest = std::min(slowest, n);
  }
  statistics after = stats();
  total.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop.store(true, std::memory_order_relaxed);
  for (std::thread& t : workers) t.join();

  for (const per_thread& c : counts) total.failures += c.failures.load(std::memory_order_relaxed);
  std::uint64_t barriers = after.barriers_issued - before.barriers_issued;
  if (barriers != 0) {
    total.calls_per_barrier = static_cast<double>(after.heavy_calls - before.heavy_calls) /
                              static_cast<double>(barriers);
  }
  if (total.calls != 0) {
    total.slowest_thread_share =
        static_cast<double>(slowest) * threads / static_cast<double>(total.calls);
  }
  return total;
}

int call_heavy() noexcept {
  heavy();
  return 0;
}

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  std::size_t n = samples.size();
  return n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

}  // namespace asymfence::bench
