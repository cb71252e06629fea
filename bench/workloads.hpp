// SPDX-License-Identifier: Apache-2.0 OR MIT
// What the benchmarks and the summary measure, in one place: the hazard-pointer
// protect loop, threads that keep CPUs busy, and a fixed-duration run of
// concurrent callers. The library is measured through its public API only;
// the raw mechanisms it is compared with are in tools/raw.
#ifndef ASYMFENCE_BENCH_WORKLOADS_HPP
#define ASYMFENCE_BENCH_WORKLOADS_HPP

#include <asymfence/asymfence.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace asymfence::bench {

// ---------------------------------------------------------------------------
// The fast path: a hazard-pointer protect. Publish the pointer in a slot, let
// the barrier order that store before the re-load, and retry until the source
// still holds the published pointer (a reclaimer's heavy() then sees the slot).

struct node {
  int payload = 0;
};

struct protect_site {
  node target;
  alignas(64) std::atomic<node*> source{&target};
  alignas(64) std::atomic<node*> slot{nullptr};
};

template <class Barrier>
inline node* protect(protect_site& site, Barrier barrier) noexcept {
  node* p = site.source.load(std::memory_order_relaxed);
  for (;;) {
    site.slot.store(p, std::memory_order_relaxed);
    barrier();
    node* again = site.source.load(std::memory_order_acquire);
    if (again == p) return p;
    p = again;
  }
}

// The barriers compared in the protect loop.
struct no_barrier {
  static constexpr const char* name = "no_barrier";
  void operator()() const noexcept {}
};
struct compiler_barrier {
  static constexpr const char* name = "compiler_barrier";
  void operator()() const noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }
};
struct light_barrier {
  // The light() of the library this translation unit is built against.
  static constexpr const char* name = ASYMFENCE_CHECKED_LIGHT ? "checked_light" : "light";
  void operator()() const noexcept { asymfence::light(); }
};
struct seq_cst_fence {
  static constexpr const char* name = "seq_cst_fence";
  void operator()() const noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }
};

// CPU time of the calling thread in nanoseconds (wall time where the platform
// has no per-thread clock): time spent preempted by other work on a busy
// machine does not count.
double thread_cpu_ns() noexcept;

// CPU nanoseconds per protect over `count` protects.
template <class Barrier>
double ns_per_protect(protect_site& site, std::uint64_t count) noexcept {
  double start = thread_cpu_ns();
  for (std::uint64_t i = 0; i < count; ++i) protect(site, Barrier{});
  return (thread_cpu_ns() - start) / static_cast<double>(count);
}

// ---------------------------------------------------------------------------
// Other threads of the process that stay on a CPU, so that heavy barriers
// must reach them (an IPI goes only to CPUs running one of our threads).
// Where the process may use several CPUs (Linux), the constructing thread is
// pinned to the first one until destruction and the spinners round-robin over
// the others, so that the scheduler cannot stack a spinner on the caller's
// CPU (where no IPI is needed): with n CPUs, min(count, n - 1) other CPUs run
// a spinner.
class spinning_threads {
 public:
  explicit spinning_threads(int count);  // returns once all of them spin
  ~spinning_threads();                   // stop() if not yet done

  // Stops and joins the spinners; returns the share of the time since they
  // started that they spent on a CPU (mean over spinners; 1 with none): on a
  // busy machine a spinner waits for its CPU, and a barrier then has one CPU
  // fewer to interrupt.
  double stop();
  spinning_threads(const spinning_threads&) = delete;
  spinning_threads& operator=(const spinning_threads&) = delete;

 private:
  alignas(64) std::atomic<bool> stop_{false};
  alignas(64) std::atomic<int> running_{0};
  std::vector<std::thread> threads_;
  std::vector<int> cpus_;           // the CPUs the caller could use, in order
  bool caller_pinned_ = false;      // the caller's affinity is to be restored
  std::vector<double> cpu_ns_;      // each spinner's CPU time, written as it ends
  double started_ns_ = 0;           // wall clock when all were spinning
  bool stopped_ = false;
};

// ---------------------------------------------------------------------------
// The strategies that selection finds usable here, in order of preference.
std::vector<strategy> usable_strategies();

// ---------------------------------------------------------------------------
// `threads` threads call `call` in a loop for about `seconds`.
struct throughput {
  std::uint64_t calls = 0;  // completed calls, all threads together
  double seconds = 0;       // the window: from the common start until the counts were read
  int failures = 0;         // calls that returned an error (raw mechanisms)
  // heavy() calls completed per barrier issued meanwhile (stats()); 0 when
  // the calls issued no barrier through the library (raw mechanisms).
  double calls_per_barrier = 0;
  // The slowest thread's calls over the mean per thread: 1 when all threads
  // progressed alike, near 0 when one was starved.
  double slowest_thread_share = 0;
  double calls_per_second() const noexcept { return seconds > 0 ? calls / seconds : 0; }
};
using call_function = int (*)() noexcept;  // 0, or an errno
throughput run_concurrently(int threads, call_function call, double seconds);

// heavy() as a call_function.
int call_heavy() noexcept;

// The median of a non-empty list of samples.
double median(std::vector<double> samples);

}  // namespace asymfence::bench

#endif
