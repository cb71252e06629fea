// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "evidence.hpp"

#include <asymfence/asymfence.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <pthread.h>
#include <sched.h>

#include "emulator.hpp"
#include "interrupt_counts.hpp"
#include "store_buffering.hpp"

namespace asymfence::test {
namespace {

constexpr std::uint64_t ipi_attempts = 4;

struct errno_entry {
  int value;
  const char* name;
};
constexpr errno_entry errno_names[] = {{EPERM, "EPERM"},   {ENOSYS, "ENOSYS"}, {EINVAL, "EINVAL"},
                                       {EINTR, "EINTR"},   {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
                                       {EACCES, "EACCES"}, {ENOENT, "ENOENT"}};

std::size_t allowed_cpu_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return static_cast<std::size_t>(CPU_COUNT(&set));
}

// Why the litmus cannot tell a barrier from none in this build, or "".
std::string litmus_blind_spot() {
  if (!emulator_name().empty()) {
    return "under " + emulator_name() + ", which runs the threads with the host's memory order";
  }
#if ASYMFENCE_TSAN
  return "light() is a seq_cst fence under ThreadSanitizer, so the control cannot show violations";
#elif !ASYMFENCE_HAS_ASYMMETRIC_MECHANISM
  return "light() is a seq_cst fence on this platform, so the control cannot show violations";
#else
  return "";
#endif
}

// A numeric field of an evidence struct and its fact's key, so that printing
// and parsing follow one table.
template <typename Evidence>
struct fact_field {
  const char* key;
  std::uint64_t Evidence::*member;
};

template <typename Evidence, std::size_t N>
facts fields_to_facts(const Evidence& e, const char* skipped_key,
                      const fact_field<Evidence> (&fields)[N]) {
  if (!e.skipped.empty()) return {{skipped_key, e.skipped}};
  facts f;
  for (const fact_field<Evidence>& field : fields) f[field.key] = std::to_string(e.*field.member);
  return f;
}

template <typename Evidence, std::size_t N>
Evidence fields_from_facts(const facts& f, const char* skipped_key,
                           const fact_field<Evidence> (&fields)[N]) {
  Evidence e;
  if (f.count(skipped_key) != 0) {
    e.skipped = fact(f, skipped_key);
    return e;
  }
  for (const fact_field<Evidence>& field : fields) {
    std::int64_t n = number_fact(f, field.key);
    e.*field.member = n < 0 ? 0 : static_cast<std::uint64_t>(n);
  }
  return e;
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

// One measurement: the caller runs on the first allowed CPU, a spinner on
// the second, whose interrupts are counted.
ipi_attempt measure_once(std::uint64_t heavy_calls) {
  std::atomic<int> spinner_cpu{-1};
  std::atomic<bool> stop{false};
  ipi_attempt result;
  std::thread spinner([&] {
    // Never real-time unpinned: it could then starve the caller's CPU.
    result.realtime = litmus::pin_to_nth_allowed_cpu(1) && run_as_realtime();
    spinner_cpu.store(sched_getcpu());
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  std::thread caller([&] {
    litmus::pin_to_nth_allowed_cpu(0);
    while (spinner_cpu.load() < 0) std::this_thread::yield();
    const int cpu = spinner_cpu.load();
    std::int64_t before = function_call_interrupts(cpu);
    auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < heavy_calls; ++i) asymfence::heavy();
    auto elapsed = std::chrono::steady_clock::now() - start;
    std::int64_t after = function_call_interrupts(cpu);
    result.with_heavy = static_cast<std::uint64_t>(after - before);
    // The baseline: as long, with the spinner still running, and no heavy().
    before = function_call_interrupts(cpu);
    std::this_thread::sleep_for(elapsed);
    after = function_call_interrupts(cpu);
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

const fact_field<litmus_evidence> litmus_fields[] = {
    {"litmus_iterations", &litmus_evidence::iterations},
    {"litmus_forbidden", &litmus_evidence::forbidden},
    {"control_iterations", &litmus_evidence::control_iterations},
    {"control_forbidden", &litmus_evidence::control_forbidden}};

facts litmus_evidence::to_facts() const {
  return fields_to_facts(*this, "litmus_skipped", litmus_fields);
}

litmus_evidence litmus_evidence::from_facts(const facts& f) {
  return fields_from_facts<litmus_evidence>(f, "litmus_skipped", litmus_fields);
}

litmus_evidence measure_litmus(std::uint64_t iterations, std::uint64_t minimum_iterations,
                               double time_limit_seconds) {
  litmus_evidence e;
  e.skipped = litmus_blind_spot();
  if (e.skipped.empty() && allowed_cpu_count() < 2) {
    e.skipped = "fewer than two CPUs: the litmus threads cannot run at the same time";
  }
  if (!e.skipped.empty()) return e;
  litmus::outcome real = litmus::run_store_buffering(iterations, litmus::light_barrier,
                                                     litmus::heavy_barrier, time_limit_seconds);
  e.iterations = real.iterations;
  e.forbidden = real.forbidden;
  if (e.iterations < minimum_iterations) {
    // A busy machine lines the two threads up slowly: finish the minimum,
    // within a longer limit (falling short of it fails the test, with the count).
    real = litmus::run_store_buffering(minimum_iterations - e.iterations, litmus::light_barrier,
                                       litmus::heavy_barrier, litmus_patience_seconds);
    e.iterations += real.iterations;
    e.forbidden += real.forbidden;
  }
  litmus::repeat_until_forbidden(
      [&] {
        litmus::outcome control = litmus::run_store_buffering(
            minimum_iterations, litmus::light_barrier, litmus::seq_cst_fence, time_limit_seconds);
        e.control_iterations += control.iterations;
        e.control_forbidden += control.forbidden;
        control.forbidden = e.control_forbidden;
        return control;
      },
      litmus::control_patience_seconds);
  return e;
}

const fact_field<ipi_evidence> ipi_fields[] = {
    {"ipi_heavy_calls", &ipi_evidence::heavy_calls},
    {"ipi_with_heavy", &ipi_evidence::with_heavy},
    {"ipi_without_heavy", &ipi_evidence::without_heavy},
    {"ipi_attempts", &ipi_evidence::attempts},
    {"ipi_spinner_realtime", &ipi_evidence::spinner_realtime}};

facts ipi_evidence::to_facts() const { return fields_to_facts(*this, "ipi_skipped", ipi_fields); }

ipi_evidence ipi_evidence::from_facts(const facts& f) {
  return fields_from_facts<ipi_evidence>(f, "ipi_skipped", ipi_fields);
}

ipi_evidence measure_ipis(std::uint64_t heavy_calls) {
  ipi_evidence e;
  if (!emulator_name().empty()) {
    e.skipped = "under " + emulator_name() + ", whose system calls are the host's";
    return e;
  }
  if (allowed_cpu_count() < 2) {
    e.skipped = "fewer than two CPUs: no other CPU runs a thread of the process";
    return e;
  }
  if (function_call_interrupts(sched_getcpu()) < 0) {
    e.skipped = "/proc/interrupts has no CAL (function call interrupts) line here";
    return e;
  }
  e.heavy_calls = heavy_calls;
  while (e.attempts < ipi_attempts && 2 * e.with_heavy < heavy_calls) {
    ipi_attempt a = measure_once(heavy_calls);
    if (++e.attempts == 1 || a.with_heavy > e.with_heavy) {
      e.with_heavy = a.with_heavy;
      e.without_heavy = a.without_heavy;
      e.spinner_realtime = a.realtime ? 1 : 0;
    }
  }
  return e;
}

}  // namespace asymfence::test
