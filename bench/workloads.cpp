// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "workloads.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <asymfence/diagnostics.hpp>

#include "testing.hpp"
#include "waiter.hpp"

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(_WIN32)
#include <windows.h>
#endif

namespace asymfence::bench {
namespace {

double wall_ns() noexcept {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

#if defined(__linux__)
long membarrier(int cmd) noexcept { return syscall(SYS_membarrier, cmd, 0, 0); }

bool query_offers(int bits, std::string& why) {
  long mask = membarrier(MEMBARRIER_CMD_QUERY);
  if (mask < 0) {
    why = std::string("membarrier QUERY failed: ") + std::strerror(errno);
    return false;
  }
  if ((mask & bits) != bits) {
    why = "membarrier QUERY lacks the command";
    return false;
  }
  return true;
}

bool prepare_private_expedited(std::string& why) {
  if (!query_offers(MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                    why)) {
    return false;
  }
  // Registration is per process and already done by the library; registering
  // again is harmless and makes the raw calls independent of it.
  if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) {
    why = std::string("REGISTER_PRIVATE_EXPEDITED failed: ") + std::strerror(errno);
    return false;
  }
  return true;
}

int issue_private_expedited() noexcept {
  return membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0 ? 0 : errno;
}

bool prepare_global(std::string& why) { return query_offers(MEMBARRIER_CMD_GLOBAL, why); }

int issue_global() noexcept { return membarrier(MEMBARRIER_CMD_GLOBAL) == 0 ? 0 : errno; }

#if defined(__x86_64__) || defined(__i386__)
// Our own page for the mprotect trick, apart from the library's.
volatile unsigned char* shootdown_page = nullptr;
std::size_t shootdown_page_size = 0;

bool prepare_mprotect(std::string& why) {
  if (shootdown_page != nullptr) return true;
  long size = sysconf(_SC_PAGESIZE);
  void* p = mmap(nullptr, static_cast<std::size_t>(size), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    why = std::string("mmap failed: ") + std::strerror(errno);
    return false;
  }
  shootdown_page = static_cast<volatile unsigned char*>(p);
  shootdown_page_size = static_cast<std::size_t>(size);
  shootdown_page[0] = 1;
  return true;
}

// Make the page writable and dirty it, then downgrade it: the downgrade must
// flush the TLB entry on every CPU running this process, by IPI on x86.
int issue_mprotect() noexcept {
  void* addr = const_cast<unsigned char*>(shootdown_page);
  if (mprotect(addr, shootdown_page_size, PROT_READ | PROT_WRITE) != 0) return errno;
  shootdown_page[0] = static_cast<unsigned char>(shootdown_page[0] + 1);
  if (mprotect(addr, shootdown_page_size, PROT_READ) != 0) return errno;
  return 0;
}
#endif
#endif  // __linux__

#if defined(_WIN32)
bool prepare_nothing(std::string&) { return true; }
int issue_flush_process_write_buffers() noexcept {
  FlushProcessWriteBuffers();
  return 0;
}
#endif

#if defined(_WIN32)
void set_strategy_variable(const char* value) { _putenv_s("ASYMFENCE_STRATEGY", value); }
#else
void set_strategy_variable(const char* value) { setenv("ASYMFENCE_STRATEGY", value, 1); }
#endif

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

const std::vector<raw_mechanism>& raw_mechanisms() {
  static const std::vector<raw_mechanism> all = {
#if defined(__linux__)
      {strategy::membarrier_private_expedited, prepare_private_expedited, issue_private_expedited},
#if defined(__x86_64__) || defined(__i386__)
      {strategy::mprotect, prepare_mprotect, issue_mprotect},
#endif
      {strategy::membarrier_global, prepare_global, issue_global},
#elif defined(_WIN32)
      {strategy::flush_process_write_buffers, prepare_nothing, issue_flush_process_write_buffers},
#endif
  };
  return all;
}

const raw_mechanism* find_raw_mechanism(strategy id) {
  for (const raw_mechanism& m : raw_mechanisms()) {
    if (m.id == id) return &m;
  }
  return nullptr;
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
      while (!stop_.load(std::memory_order_relaxed)) detail::cpu_relax();
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

bool force_strategy(strategy s, std::string& why) {
  set_strategy_variable(to_string(s));
  init_result result = detail::reselect_for_testing();
  if (result.selected == s) return true;
  why = result.message;
  restore_automatic_strategy();
  return false;
}

void restore_automatic_strategy() {
  set_strategy_variable("auto");
  detail::reselect_for_testing();
}

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
