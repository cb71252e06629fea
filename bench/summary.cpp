// SPDX-License-Identifier: Apache-2.0 OR MIT
// Prints the performance targets of the library measured in one run, each
// with PASS or MISS. Every comparison interleaves its sides round by round
// (A, B, B, A, ...) and compares medians, so that noise from other work on the
// machine hits both sides alike. Speed is reported, never asserted: the exit
// status is 0 whatever the figures: 2 for bad arguments, 1 when a measured
// call failed or heavy() issued no barrier (then a figure would be a lie).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "raw_barriers.hpp"
#include "workloads.hpp"

namespace asymfence::bench {
namespace {

// Calls that returned an error while being timed.
int failed_calls = 0;

struct options {
  int rounds = 15;
  double scale = 1.0;  // of the work per round; --quick makes it small
};

const char* usage =
    "usage: asymfence_bench_summary [--rounds=N] [--quick]\n"
    "  --rounds=N  interleaved rounds per comparison (1..1000, default 15)\n"
    "  --quick     3 rounds of a tenth of the work (a smoke run; figures are rough)\n";

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--quick") == 0) {
      o.rounds = 3;
      o.scale = 0.1;
    } else if (std::strncmp(a, "--rounds=", 9) == 0) {
      char* end = nullptr;
      long n = std::strtol(a + 9, &end, 10);
      if (end == a + 9 || *end != '\0' || n < 1 || n > 1000) {
        std::fprintf(stderr, "bad --rounds value '%s': give a whole number from 1 to 1000\n%s",
                     a + 9, usage);
        return false;
      }
      o.rounds = static_cast<int>(n);
    } else {
      std::fprintf(stderr, "unknown argument '%s'\n%s", a, usage);
      return false;
    }
  }
  return true;
}

// Runs every measurement once per round, starting each round one place further
// along the list, and returns the median of each.
std::vector<double> interleaved_medians(int rounds,
                                        const std::vector<std::function<double()>>& measure) {
  std::size_t n = measure.size();
  std::vector<std::vector<double>> samples(n);
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = (k + static_cast<std::size_t>(r)) % n;
      samples[i].push_back(measure[i]());
    }
  }
  std::vector<double> medians;
  for (auto& s : samples) medians.push_back(median(s));
  return medians;
}

void verdict(const char* what, double ratio, bool pass, const char* target) {
  std::printf("  %-44s %7.2f   target %-16s %s\n", what, ratio, target, pass ? "PASS" : "MISS");
}

void fast_path(const options& o) {
  const auto count = static_cast<std::uint64_t>(5'000'000 * o.scale);
  protect_site site;
  ns_per_protect<seq_cst_fence>(site, count / 10);  // warm up
  std::vector<double> ns = interleaved_medians(
      o.rounds, {[&] { return ns_per_protect<compiler_barrier>(site, count); },
                 [&] { return ns_per_protect<light_barrier>(site, count); },
                 [&] { return ns_per_protect<seq_cst_fence>(site, count); }});
  const std::string light = std::string(light_barrier::name) + "()";
  std::printf("hazard-pointer protect loop, CPU ns per protect: compiler barrier %.3f, %s %.3f, "
              "seq_cst fence %.3f\n",
              ns[0], light.c_str(), ns[1], ns[2]);
  verdict((light + " / compiler barrier").c_str(), ns[1] / ns[0], ns[1] / ns[0] <= 1.05,
          "<= 1.05");
  verdict(("seq_cst fence / " + light).c_str(), ns[2] / ns[1], ns[2] / ns[1] >= 5, ">= 5");
}

// Microseconds per call over `calls` calls.
double us_per_call(call_function call, int calls) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    if (call() != 0) ++failed_calls;
  }
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
             .count() /
         calls;
}

void slow_path(const options& o, const raw::raw_barrier& raw) {
  const int calls = static_cast<int>(2000 * o.scale);
  spinning_threads other(1);
  std::vector<double> us = interleaved_medians(
      o.rounds, {[&] { return us_per_call(call_heavy, calls); },
                 [&] { return us_per_call(raw.issue, calls); }});
  double on_cpu = other.stop();
  std::printf("one caller, one other thread spinning, us per call: heavy() %.3f, raw %s %.3f; "
              "the spinner was on its CPU %.0f%% of the time (an idle machine gives 100%%)\n",
              us[0], to_string(raw.mechanism), us[1], 100 * on_cpu);
  verdict("heavy() / raw", us[0] / us[1], us[0] / us[1] <= 1.10, "<= 1.10");
}

void concurrent(const options& o, const raw::raw_barrier& raw) {
  constexpr int callers = 8;
  const double seconds = 0.25 * o.scale;
  double sharing = 0;
  double slowest = 1;
  auto calls_per_second = [&](call_function call) {
    throughput t = run_concurrently(callers, call, seconds);
    failed_calls += t.failures;
    if (call == call_heavy) {
      sharing += t.calls_per_barrier / o.rounds;
      slowest = std::min(slowest, t.slowest_thread_share);
    }
    return t.calls_per_second();
  };
  std::vector<double> rate =
      interleaved_medians(o.rounds, {[&] { return calls_per_second(call_heavy); },
                                     [&] { return calls_per_second(raw.issue); }});
  if (sharing == 0) {
    std::printf("heavy() issued no barrier: the figures above measured nothing\n");
    ++failed_calls;
    return;
  }
  std::printf("%d concurrent callers, completed calls per second: heavy() %.0f, raw %s %.0f; "
              "heavy() completed %.2f calls per barrier issued (mean), its slowest thread made "
              "%.2f of the mean calls per thread (worst round)\n",
              callers, rate[0], to_string(raw.mechanism), rate[1], sharing, slowest);
  verdict("heavy() / raw calls per second", rate[0] / rate[1], rate[0] / rate[1] >= 1.3,
          ">= 1.3 (aim 2)");
}

#define ASYMFENCE_BENCH_STRINGIFY(x) #x
#define ASYMFENCE_BENCH_VERSION(major, minor, patch) \
  ASYMFENCE_BENCH_STRINGIFY(major)                   \
  "." ASYMFENCE_BENCH_STRINGIFY(minor) "." ASYMFENCE_BENCH_STRINGIFY(patch)
#if defined(__clang__)
const char* const compiler =
    "clang " ASYMFENCE_BENCH_VERSION(__clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
const char* const compiler =
    "g++ " ASYMFENCE_BENCH_VERSION(__GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
const char* const compiler = "an unknown compiler";
#endif

std::string load_average() {
  char text[64] = "unknown";
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fgets(text, sizeof text, f) == nullptr) std::snprintf(text, sizeof text, "unknown");
    std::fclose(f);
  }
  std::string s = text;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace
}  // namespace asymfence::bench

int main(int argc, char** argv) {
  using namespace asymfence;
  using namespace asymfence::bench;
  options o;
  if (!parse(argc, argv, o)) return 2;
  strategy selected = active_strategy();
  std::printf("asymfence performance summary: heavy() uses %s; %u CPUs; load average %s; "
              "built by %s; medians of %d interleaved rounds\n",
              to_string(selected), std::thread::hardware_concurrency(), load_average().c_str(),
              compiler, o.rounds);
  fast_path(o);
  const raw::raw_barrier* raw = raw::raw_barrier_of(selected);
  std::string why = "no raw form of this strategy";
  if (raw == nullptr || !raw::prepare(*raw, why)) {
    std::printf("slow-path targets not measured: %s cannot be run raw here (%s)\n",
                to_string(selected), why.c_str());
    return 0;
  }
  slow_path(o, *raw);
  concurrent(o, *raw);
  if (failed_calls != 0) {
    std::printf("%d measured calls failed: the figures are not valid\n", failed_calls);
    return 1;
  }
  return 0;
}
