// SPDX-License-Identifier: Apache-2.0 OR MIT
// A program that uses asymfence as any program would (the library selects its
// strategy at load time, before main), for the fault tests that must start a
// fresh process under a seccomp filter or strace. Each command prints what it
// found as "key=value" lines on stdout; the tests parse them.
//
//   fault_agent <command>...
//     selection         init()'s result and selection()'s report, and whether
//                       the process runs with AT_SECURE
//     deny=<errno>      8 threads call heavy() in a loop; meanwhile a seccomp
//                       filter makes membarrier(2) fail with <errno>
//     stats             active_strategy() and stats()
//     heavy=<n>         n heavy() calls on this thread
//     litmus=<n>        light() against heavy() for n rounds, and the control
//     ipi=<n>           interrupts a spinning CPU receives during n heavy() calls
//     counts            membarrier and mprotect calls made through the seam since main
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "evidence.hpp"
#include "seam_counter.hpp"
#include "seccomp_deny.hpp"

namespace {

using asymfence::test::errno_label;
using asymfence::test::facts;
using asymfence::test::print_facts;

constexpr int heavy_threads = 8;
// heavy() calls the threads complete before the filter goes in, and after.
constexpr std::uint64_t calls_before_denial = 200;
constexpr std::uint64_t calls_after_denial = 400;

const char* const usage =
    "usage: fault_agent <command>...\n"
    "commands: selection, deny=<EPERM|ENOSYS|number>, stats, heavy=<calls>, litmus=<rounds>, "
    "ipi=<calls>, counts\n";

std::string hex(long value) {
  char text[32];
  std::snprintf(text, sizeof text, "%#lx", value);
  return text;
}

void print_selection() {
  asymfence::init_result r = asymfence::init();
  asymfence::selection_report report = asymfence::selection();
  const long query = report.membarrier_query;
  facts f = {{"selected", asymfence::to_string(r.selected)},
             {"selection_error", errno_label(r.error)},
             {"selection_message", r.message},
             {"membarrier_query", query < 0 ? "-1" : hex(query)},
             {"membarrier_query_error", errno_label(report.membarrier_query_error)},
             {"forced", report.forced ? report.forced_name : "(no)"},
             {"at_secure", std::to_string(getauxval(AT_SECURE))}};
  for (const asymfence::candidate_report& c : report.candidates) {
    std::string name = asymfence::to_string(c.id);
    f["usable." + name] = c.usable ? "1" : "0";
    f["reason." + name] = c.reason;
  }
  print_facts(f);
}

// Eight threads inside heavy() when membarrier(2) starts failing: the
// failure must be handled by whichever thread is leading a barrier then,
// while the others wait for it.
void deny_while_threads_in_heavy(int error) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> calls{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < heavy_threads; ++i) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        asymfence::heavy();
        calls.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  while (calls.load() < calls_before_denial) std::this_thread::yield();
  bool installed = asymfence::test::deny_membarrier(error);
  int install_error = errno;
  std::uint64_t at_denial = calls.load();
  // Proof that the filter is in force: the raw system call now fails.
  long query = ::syscall(__NR_membarrier, 0, 0, 0);
  int query_error = query < 0 ? errno : 0;
  if (installed) {
    while (calls.load() < at_denial + calls_after_denial) std::this_thread::yield();
  }
  stop.store(true);
  for (std::thread& t : threads) t.join();
  print_facts({{"deny_installed", installed ? "1" : errno_label(install_error)},
               {"denied_query_error", errno_label(query_error)},
               {"calls_before_denial", std::to_string(at_denial)},
               {"calls_after_denial", std::to_string(calls.load() - at_denial)}});
}

void print_stats() {
  asymfence::statistics s = asymfence::stats();
  print_facts({{"active", asymfence::to_string(asymfence::active_strategy())},
               {"heavy_calls", std::to_string(s.heavy_calls)},
               {"barriers_issued", std::to_string(s.barriers_issued)},
               {"reregistrations", std::to_string(s.reregistrations)},
               {"transient_retries", std::to_string(s.transient_retries)},
               {"strategy_switches", std::to_string(s.strategy_switches)}});
}

void print_counts() {
  asymfence::test::seam_counts& c = asymfence::test::counts();
  print_facts({{"calls.membarrier_query", std::to_string(c.membarrier_query.load())},
               {"calls.membarrier_register", std::to_string(c.membarrier_register.load())},
               {"calls.membarrier_private_expedited",
                std::to_string(c.membarrier_private_expedited.load())},
               {"calls.membarrier_global", std::to_string(c.membarrier_global.load())},
               {"calls.mprotect", std::to_string(c.mprotect.load())}});
}

// The positive number after '=' in "name=value", or 0.
std::uint64_t positive_argument(const std::string& command, std::size_t eq) {
  char* end = nullptr;
  unsigned long long n = std::strtoull(command.c_str() + eq + 1, &end, 10);
  return *end == '\0' ? n : 0;
}

int refuse(const std::string& command, const char* why) {
  std::fprintf(stderr, "fault_agent: '%s': %s\n%s", command.c_str(), why, usage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Facts must reach the test even when the library stops the process.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  asymfence::test::install_counting_seam();
  if (argc < 2) return refuse("", "no command given");
  for (int i = 1; i < argc; ++i) {
    std::string command = argv[i];
    std::size_t eq = command.find('=');
    std::string name = command.substr(0, eq);
    if (command == "selection") {
      print_selection();
    } else if (command == "stats") {
      print_stats();
    } else if (command == "counts") {
      print_counts();
    } else if (eq == std::string::npos) {
      return refuse(command, "unknown command");
    } else if (name == "deny") {
      int error = asymfence::test::errno_from_label(command.substr(eq + 1));
      if (error <= 0) return refuse(command, "needs an errno name or number");
      deny_while_threads_in_heavy(error);
    } else if (name == "heavy" || name == "litmus" || name == "ipi") {
      std::uint64_t n = positive_argument(command, eq);
      if (n == 0) return refuse(command, "needs a positive number");
      if (name == "heavy") {
        for (std::uint64_t k = 0; k < n; ++k) asymfence::heavy();
        continue;
      }
      print_facts(name == "litmus"
                      ? asymfence::test::measure_litmus(
                            n, std::min(n, asymfence::test::litmus_minimum_iterations),
                            asymfence::test::litmus_time_limit_seconds)
                            .to_facts()
                      : asymfence::test::measure_ipis(n).to_facts());
    } else {
      return refuse(command, "unknown command");
    }
  }
  return 0;
}
