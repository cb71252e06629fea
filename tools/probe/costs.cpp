// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "costs.hpp"

#include <asymfence/asymfence.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "raw_barriers.hpp"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace asymfence::probe {
namespace {

using raw::raw_barrier;
using raw::raw_barrier_of;

using clock_type = std::chrono::steady_clock;

double nanoseconds_between(clock_type::time_point a, clock_type::time_point b) noexcept {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

// The measuring thread and the spinning one sit on distinct CPUs, so that a
// heavy barrier must interrupt the spinner (on Linux; elsewhere the scheduler
// places them).
struct cpu_choice {
  int measuring = -1;  // -1: not pinned
  int spinning = -1;
};

#if defined(__linux__)
// Chosen before any pinning: a thread inherits the mask of its creator.
cpu_choice choose_cpus() noexcept {
  cpu_choice choice;
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) {
    return choice;
  }
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (choice.measuring < 0) {
      choice.measuring = cpu;
    } else {
      choice.spinning = cpu;
      break;
    }
  }
  return choice;
}

// Pins the calling thread to one CPU for its lifetime, then restores its mask.
class pinned_to_cpu {
 public:
  explicit pinned_to_cpu(int cpu) noexcept {
    if (cpu < 0 || pthread_getaffinity_np(pthread_self(), sizeof old_, &old_) != 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    restore_ = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
  }
  ~pinned_to_cpu() {
    if (restore_) pthread_setaffinity_np(pthread_self(), sizeof old_, &old_);
  }
  pinned_to_cpu(const pinned_to_cpu&) = delete;
  pinned_to_cpu& operator=(const pinned_to_cpu&) = delete;

 private:
  cpu_set_t old_{};
  bool restore_ = false;
};
#else
cpu_choice choose_cpus() noexcept { return {}; }
class pinned_to_cpu {
 public:
  explicit pinned_to_cpu(int) noexcept {}
};
#endif

// Another thread of the process that keeps a CPU busy until destroyed.
class spinning_thread {
 public:
  explicit spinning_thread(int cpu) : thread_([this, cpu] {
    pinned_to_cpu pin(cpu);
    running_.store(true, std::memory_order_release);
    while (!stop_.load(std::memory_order_relaxed)) {
    }
  }) {
    while (!running_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  ~spinning_thread() {
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
  }
  spinning_thread(const spinning_thread&) = delete;
  spinning_thread& operator=(const spinning_thread&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

// The fast-path step of a hazard-pointer protect: publish, barrier, re-load.
struct alignas(64) cache_line {
  std::atomic<unsigned long> value{0};
};
cache_line published_slot;
cache_line reloaded_word;
volatile unsigned long step_sink;

// One sample: the mean time of a step over plan.steps_per_sample steps.
template <class Barrier>
double step_ns(Barrier barrier, const measurement_plan& plan) {
  unsigned long sink = 0;
  auto start = clock_type::now();
  for (int i = 0; i < plan.steps_per_sample; ++i) {
    published_slot.value.store(static_cast<unsigned long>(i), std::memory_order_relaxed);
    barrier();
    sink += reloaded_word.value.load(std::memory_order_relaxed);
  }
  double ns = nanoseconds_between(start, clock_type::now()) / plan.steps_per_sample;
  step_sink = sink;
  return ns;
}

// Times `samples` calls one by one; stops at the first that fails (nonzero).
template <class Call>
double median_call_ns(Call call, int samples, int& error) {
  std::vector<double> durations;
  error = call();  // warm-up: first-touch and cache effects
  for (int s = 0; s < samples && error == 0; ++s) {
    auto start = clock_type::now();
    error = call();
    durations.push_back(nanoseconds_between(start, clock_type::now()));
  }
  return median(durations);
}

template <class Call>
latency measure_latency(Call call, int samples, cpu_choice cpus) {
  latency result;
  result.samples = samples;
  pinned_to_cpu pin(cpus.measuring);
  result.idle_ns = median_call_ns(call, samples, result.error);
  if (result.error == 0) {
    spinning_thread spinner(cpus.spinning);
    result.one_spinning_ns = median_call_ns(call, samples, result.error);
  }
  result.measured = result.error == 0;
  return result;
}

struct concurrent_run {
  std::uint64_t calls = 0;
  double seconds = 0;
  int error = 0;  // the first failure of a call, if any
};

// `threads` threads call `call` in a loop for about `seconds`.
template <class Call>
concurrent_run run_concurrently(int threads, double seconds, Call call) {
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> calls{0};
  std::atomic<int> error{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      std::uint64_t mine = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        int e = call();
        if (e != 0) {
          error.store(e);
          stop.store(true);
          break;
        }
        ++mine;
      }
      calls.fetch_add(mine);
    });
  }
  auto start = clock_type::now();
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  for (std::thread& t : callers) t.join();
  concurrent_run result;
  result.seconds = nanoseconds_between(start, clock_type::now()) / 1e9;
  result.calls = calls.load();
  result.error = error.load();
  return result;
}

int call_heavy() noexcept {
  asymfence::heavy();
  return 0;
}

bool is_slow(strategy s) noexcept { return s == strategy::membarrier_global; }

}  // namespace

measurement_plan plan_measurements(bool quick, int sharing_threads) noexcept {
  if (quick) return {15, 2000, 100, 1, 0.05, sharing_threads, 1.5, 2, 60};
  return {51, 20000, 2000, 3, 0.3, sharing_threads, 3, 2, 60};
}

costs measure_costs(const measurement_plan& plan, strategy active,
                    const selection_report& selection) {
  costs result;
  const cpu_choice cpus = choose_cpus();
  {
    // Samples of the three barriers alternate, so that a burst of noise from
    // other processes lands on all three alike.
    pinned_to_cpu pin(cpus.measuring);
    std::vector<double> compiler_barrier, light, fence;
    for (int s = 0; s < plan.step_samples; ++s) {
      compiler_barrier.push_back(
          step_ns([] { std::atomic_signal_fence(std::memory_order_seq_cst); }, plan));
      light.push_back(step_ns([] { asymfence::light(); }, plan));
      fence.push_back(step_ns([] { std::atomic_thread_fence(std::memory_order_seq_cst); }, plan));
    }
    result.compiler_barrier_ns = median(compiler_barrier);
    result.light_ns = median(light);
    result.seq_cst_fence_ns = median(fence);
  }
  int heavy_samples = is_slow(active) ? plan.slow_call_samples : plan.call_samples;
  result.heavy = measure_latency(call_heavy, heavy_samples, cpus);
  for (const candidate_report& c : selection.candidates) {
    const raw_barrier* raw = raw_barrier_of(c.id);
    if (!c.usable || raw == nullptr) continue;
    raw_latency measured;
    measured.mechanism = c.id;
    measured.call = raw->call;
    int samples = raw->slow ? plan.slow_call_samples : plan.call_samples;
    measured.cost = measure_latency(raw->issue, samples, cpus);
    result.raw.push_back(measured);
  }
  return result;
}

sharing measure_sharing(const measurement_plan& plan, strategy active) {
  sharing result;
  result.threads = plan.sharing_threads;
  statistics before = asymfence::stats();
  concurrent_run heavy_run = run_concurrently(plan.sharing_threads, plan.sharing_seconds,
                                              call_heavy);
  statistics after = asymfence::stats();
  result.seconds = heavy_run.seconds;
  result.heavy_calls = heavy_run.calls;
  result.barriers_issued = after.barriers_issued - before.barriers_issued;
  result.heavy_calls_per_s = static_cast<double>(heavy_run.calls) / heavy_run.seconds;

  const raw_barrier* raw = raw_barrier_of(active);
  if (raw == nullptr) return result;
  concurrent_run raw_run = run_concurrently(plan.sharing_threads, plan.sharing_seconds,
                                            raw->issue);
  result.raw_call = raw->call;
  result.raw_error = raw_run.error;
  result.raw_measured = raw_run.error == 0;
  result.raw_calls = raw_run.calls;
  result.raw_calls_per_s = static_cast<double>(raw_run.calls) / raw_run.seconds;
  return result;
}

}  // namespace asymfence::probe
