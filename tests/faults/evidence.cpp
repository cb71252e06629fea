#include "evidence.hpp"

#include <asymfence/asymfence.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>

#include "store_buffering.hpp"

namespace asymfence::test {
namespace {

constexpr int control_attempts = 5;
constexpr int ipi_attempts = 4;

struct errno_entry {
  int value;
  const char* name;
};
constexpr errno_entry errno_names[] = {{EPERM, "EPERM"},   {ENOSYS, "ENOSYS"}, {EINVAL, "EINVAL"},
                                       {EINTR, "EINTR"},   {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
                                       {EACCES, "EACCES"}, {ENOENT, "ENOENT"}};

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

bool pin_to(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
}

// The "CAL" (function call interrupts) count of one CPU, or -1 when
// /proc/interrupts has no such line or column (not x86, or no /proc).
std::int64_t function_call_interrupts(int cpu) {
  std::ifstream in("/proc/interrupts");
  std::string header;
  if (!std::getline(in, header)) return -1;
  int column = -1;
  {
    std::istringstream words(header);
    std::string word;
    for (int i = 0; words >> word; ++i) {
      if (word == "CPU" + std::to_string(cpu)) column = i;
    }
  }
  if (column < 0) return -1;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string label;
    if (!(words >> label) || label != "CAL:") continue;
    std::uint64_t count = 0;
    for (int i = 0; i <= column; ++i) {
      if (!(words >> count)) return -1;
    }
    return static_cast<std::int64_t>(count);
  }
  return -1;
}

// Why the litmus cannot tell a barrier from none in this build, or "".
const char* litmus_blind_spot() {
#if ASYMFENCE_TSAN
  return "light() is a seq_cst fence under ThreadSanitizer, so the control cannot show violations";
#elif !ASYMFENCE_HAS_ASYMMETRIC_MECHANISM
  return "light() is a seq_cst fence on this platform, so the control cannot show violations";
#else
  return "";
#endif
}

std::uint64_t unsigned_fact(const facts& f, const char* key) {
  std::int64_t n = number_fact(f, key);
  return n < 0 ? 0 : static_cast<std::uint64_t>(n);
}

struct ipi_attempt {
  std::uint64_t with_heavy = 0;
  std::uint64_t without_heavy = 0;
  bool realtime = false;
};

// An interrupt reaches the spinner's CPU only while the spinner runs there;
// on a busy machine other work would preempt it. Real-time priority keeps it
// on its CPU for the few milliseconds of a measurement (best effort: it needs
// CAP_SYS_NICE).
bool run_as_realtime() {
  sched_param param{};
  param.sched_priority = 1;
  return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
}

// One measurement: the caller is pinned to `caller_cpu`, a spinner to
// `spinner_cpu`, whose interrupts are counted.
ipi_attempt measure_once(std::uint64_t heavy_calls, int caller_cpu, int spinner_cpu) {
  std::atomic<bool> spinning{false};
  std::atomic<bool> stop{false};
  ipi_attempt result;
  std::thread spinner([&] {
    pin_to(spinner_cpu);
    result.realtime = run_as_realtime();
    spinning.store(true);
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  std::thread caller([&] {
    pin_to(caller_cpu);
    while (!spinning.load()) std::this_thread::yield();
    std::int64_t before = function_call_interrupts(spinner_cpu);
    auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < heavy_calls; ++i) asymfence::heavy();
    auto elapsed = std::chrono::steady_clock::now() - start;
    std::int64_t after = function_call_interrupts(spinner_cpu);
    result.with_heavy = static_cast<std::uint64_t>(after - before);
    // The baseline: as long, with the spinner still running, and no heavy().
    before = function_call_interrupts(spinner_cpu);
    std::this_thread::sleep_for(elapsed);
    after = function_call_interrupts(spinner_cpu);
    result.without_heavy = static_cast<std::uint64_t>(after - before);
  });
  caller.join();
  stop.store(true);
  spinner.join();
  return result;
}

}  // namespace

facts parse_facts(const std::string& output) {
  facts f;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string key = line.substr(0, eq);
    if (key.find_first_of(" :") != std::string::npos) continue;  // prose, not a fact
    f[key] = line.substr(eq + 1);
  }
  return f;
}

std::string fact(const facts& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? "(missing)" : it->second;
}

std::int64_t number_fact(const facts& f, const std::string& key) {
  auto it = f.find(key);
  if (it == f.end()) return -1;
  char* end = nullptr;
  long long n = std::strtoll(it->second.c_str(), &end, 0);
  return end == it->second.c_str() ? -1 : static_cast<std::int64_t>(n);
}

void print_facts(const facts& f) {
  for (const auto& [key, value] : f) std::printf("%s=%s\n", key.c_str(), value.c_str());
  std::fflush(stdout);
}

std::string errno_label(int error) {
  for (const errno_entry& e : errno_names) {
    if (e.value == error) return e.name;
  }
  return std::to_string(error);
}

int errno_from_label(const std::string& label) {
  for (const errno_entry& e : errno_names) {
    if (label == e.name) return e.value;
  }
  char* end = nullptr;
  long n = std::strtol(label.c_str(), &end, 10);
  return label.empty() || *end != '\0' || n <= 0 ? -1 : static_cast<int>(n);
}

facts litmus_evidence::to_facts() const {
  if (!skipped.empty()) return {{"litmus_skipped", skipped}};
  return {{"litmus_iterations", std::to_string(iterations)},
          {"litmus_forbidden", std::to_string(forbidden)},
          {"control_iterations", std::to_string(control_iterations)},
          {"control_forbidden", std::to_string(control_forbidden)}};
}

litmus_evidence litmus_evidence::from_facts(const facts& f) {
  litmus_evidence e;
  e.skipped = f.count("litmus_skipped") ? fact(f, "litmus_skipped") : "";
  if (!e.skipped.empty()) return e;
  e.iterations = unsigned_fact(f, "litmus_iterations");
  e.forbidden = unsigned_fact(f, "litmus_forbidden");
  e.control_iterations = unsigned_fact(f, "control_iterations");
  e.control_forbidden = unsigned_fact(f, "control_forbidden");
  return e;
}

litmus_evidence measure_litmus(std::uint64_t iterations, std::uint64_t minimum_iterations,
                               double time_limit_seconds) {
  litmus_evidence e;
  e.skipped = litmus_blind_spot();
  if (e.skipped.empty() && allowed_cpus().size() < 2) {
    e.skipped = "fewer than two CPUs: the litmus threads cannot run at the same time";
  }
  if (!e.skipped.empty()) return e;
  litmus::outcome real = litmus::run_store_buffering(iterations, litmus::light_barrier,
                                                     litmus::heavy_barrier, time_limit_seconds);
  e.iterations = real.iterations;
  e.forbidden = real.forbidden;
  if (e.iterations < minimum_iterations) {
    // A busy machine lines the two threads up slowly: finish the minimum
    // without a time limit (the test's own timeout still applies).
    real = litmus::run_store_buffering(minimum_iterations - e.iterations, litmus::light_barrier,
                                       litmus::heavy_barrier);
    e.iterations += real.iterations;
    e.forbidden += real.forbidden;
  }
  for (int attempt = 0; attempt < control_attempts && e.control_forbidden == 0; ++attempt) {
    litmus::outcome control = litmus::run_store_buffering(
        minimum_iterations, litmus::light_barrier, litmus::seq_cst_fence, time_limit_seconds);
    e.control_iterations += control.iterations;
    e.control_forbidden += control.forbidden;
  }
  return e;
}

facts ipi_evidence::to_facts() const {
  if (!skipped.empty()) return {{"ipi_skipped", skipped}};
  return {{"ipi_heavy_calls", std::to_string(heavy_calls)},
          {"ipi_with_heavy", std::to_string(with_heavy)},
          {"ipi_without_heavy", std::to_string(without_heavy)},
          {"ipi_attempts", std::to_string(attempts)},
          {"ipi_spinner_realtime", spinner_realtime ? "1" : "0"}};
}

ipi_evidence ipi_evidence::from_facts(const facts& f) {
  ipi_evidence e;
  e.skipped = f.count("ipi_skipped") ? fact(f, "ipi_skipped") : "";
  if (!e.skipped.empty()) return e;
  e.heavy_calls = unsigned_fact(f, "ipi_heavy_calls");
  e.with_heavy = unsigned_fact(f, "ipi_with_heavy");
  e.without_heavy = unsigned_fact(f, "ipi_without_heavy");
  e.attempts = static_cast<int>(number_fact(f, "ipi_attempts"));
  e.spinner_realtime = number_fact(f, "ipi_spinner_realtime") == 1;
  return e;
}

ipi_evidence measure_ipis(std::uint64_t heavy_calls) {
  ipi_evidence e;
  std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) {
    e.skipped = "fewer than two CPUs: no other CPU runs a thread of the process";
    return e;
  }
  if (function_call_interrupts(cpus[1]) < 0) {
    e.skipped = "/proc/interrupts has no CAL (function call interrupts) line here";
    return e;
  }
  e.heavy_calls = heavy_calls;
  for (e.attempts = 1; e.attempts <= ipi_attempts; ++e.attempts) {
    ipi_attempt a = measure_once(heavy_calls, cpus[0], cpus[1]);
    if (e.attempts == 1 || a.with_heavy > e.with_heavy) {
      e.with_heavy = a.with_heavy;
      e.without_heavy = a.without_heavy;
      e.spinner_realtime = a.realtime;
    }
    if (2 * e.with_heavy >= heavy_calls) break;
  }
  if (e.attempts > ipi_attempts) e.attempts = ipi_attempts;
  return e;
}

}  // namespace asymfence::test
