// SPDX-License-Identifier: Apache-2.0 OR MIT
// RCU side by side with liburcu's membarrier flavour (when the build found
// it; its read side is inlined through _LGPL_SOURCE). Prints three tables:
// the read section (lock, load, read, unlock) against liburcu-memb and
// against a bare loop (load, read); rcu_synchronize calls per second with 1
// and 4 callers while two readers run short sections; objects per second for
// retire then barrier. Each table interleaves its variants round by round
// and prints medians, so that other load on the machine hits all alike.
// Speed is reported (PASS/MISS against the targets), never asserted.
#include <algorithm>
#include <asymfence/rcu.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#if ASYMFENCE_BENCH_HAVE_URCU
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>
#endif

#define NOINLINE __attribute__((noinline))

namespace {

struct options {
  int rounds = 7;
  double scale = 1.0;  // of the work per round
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs each measurement once per round, rotating the starting one, and
// returns the median of each.
std::vector<double> interleaved(int rounds, const std::vector<std::function<double()>>& runs) {
  std::vector<std::vector<double>> samples(runs.size());
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t k = 0; k < runs.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(r)) % runs.size();
      samples[i].push_back(runs[i]());
    }
  }
  std::vector<double> out;
  for (auto& s : samples) out.push_back(median(s));
  return out;
}

const char* verdict(bool pass) { return pass ? "PASS" : "MISS"; }

// ---- Read sections --------------------------------------------------------

struct payload {
  int value = 1;
};
payload the_payload;
std::atomic<payload*> published{&the_payload};
payload* urcu_published = &the_payload;  // liburcu's rcu_dereference reads a plain pointer
volatile std::uint64_t sink;

NOINLINE std::uint64_t sections_asymfence(std::uint64_t n) {
  asymfence::rcu_domain& dom = asymfence::rcu_default_domain();
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    dom.lock();
    sum += static_cast<std::uint64_t>(published.load(std::memory_order_acquire)->value);
    dom.unlock();
  }
  return sum;
}

NOINLINE std::uint64_t sections_bare(std::uint64_t n) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::atomic_signal_fence(std::memory_order_seq_cst);  // keep the loop a loop
    sum += static_cast<std::uint64_t>(published.load(std::memory_order_acquire)->value);
  }
  return sum;
}

#if ASYMFENCE_BENCH_HAVE_URCU
NOINLINE std::uint64_t sections_urcu(std::uint64_t n) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    urcu_memb_read_lock();
    sum += static_cast<std::uint64_t>(rcu_dereference(urcu_published)->value);
    urcu_memb_read_unlock();
  }
  return sum;
}
#endif

double ns_per_section(std::uint64_t (*f)(std::uint64_t), std::uint64_t n) {
  const auto start = std::chrono::steady_clock::now();
  sink = f(n);
  return seconds_since(start) * 1e9 / static_cast<double>(n);
}

void read_table(const options& o) {
  const auto n = static_cast<std::uint64_t>(20'000'000 * o.scale);
  std::vector<std::function<double()>> runs = {
      [&] { return ns_per_section(sections_asymfence, n); },
      [&] { return ns_per_section(sections_bare, n); }};
#if ASYMFENCE_BENCH_HAVE_URCU
  runs.push_back([&] { return ns_per_section(sections_urcu, n); });
#endif
  const std::vector<double> m = interleaved(o.rounds, runs);
  std::printf("\nRead section (lock, load, read, unlock), ns per section, median of %d rounds\n",
              o.rounds);
  std::printf("  asymfence        %6.2f ns\n", m[0]);
  std::printf("  bare loop        %6.2f ns   asymfence / bare = %.2fx\n", m[1], m[0] / m[1]);
#if ASYMFENCE_BENCH_HAVE_URCU
  std::printf(
      "  liburcu-memb     %6.2f ns   asymfence / liburcu-memb = %.2fx (target <= 1.0x) %s\n", m[2],
      m[0] / m[2], verdict(m[0] <= m[2]));
#endif
}

// ---- rcu_synchronize under readers ---------------------------------------

enum class flavour { asymfence, urcu };

void short_sections(flavour f, const std::atomic<bool>& stop) {
#if ASYMFENCE_BENCH_HAVE_URCU
  if (f == flavour::urcu) {
    urcu_memb_register_thread();
    while (!stop.load(std::memory_order_relaxed)) sink = sections_urcu(64);
    urcu_memb_unregister_thread();
    return;
  }
#endif
  (void)f;
  while (!stop.load(std::memory_order_relaxed)) sink = sections_asymfence(64);
}

NOINLINE void synchronize_asymfence() { asymfence::rcu_synchronize(); }
#if ASYMFENCE_BENCH_HAVE_URCU
NOINLINE void synchronize_urcu() { urcu_memb_synchronize_rcu(); }
#endif

// Calls per second of `callers` threads calling synchronize while two
// readers run short sections.
double synchronize_rate(flavour f, int callers, double seconds) {
  std::atomic<bool> stop_readers{false}, stop_callers{false};
  std::atomic<std::uint64_t> calls{0};
  std::vector<std::thread> readers, updaters;
  for (int r = 0; r < 2; ++r) readers.emplace_back(short_sections, f, std::cref(stop_readers));
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < callers; ++c) {
    updaters.emplace_back([&] {
      void (*sync)() = synchronize_asymfence;
#if ASYMFENCE_BENCH_HAVE_URCU
      if (f == flavour::urcu) sync = synchronize_urcu;
#endif
      std::uint64_t mine = 0;
      while (!stop_callers.load(std::memory_order_relaxed)) {
        sync();
        ++mine;
      }
      calls.fetch_add(mine);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop_callers.store(true);
  for (auto& t : updaters) t.join();
  const double elapsed = seconds_since(start);
  stop_readers.store(true);
  for (auto& t : readers) t.join();
  return static_cast<double>(calls.load()) / elapsed;
}

void synchronize_table(const options& o) {
  const double seconds = 0.3 * o.scale;
  std::printf(
      "\nrcu_synchronize calls per second while 2 readers run short sections, median of %d "
      "rounds of %.2f s\n",
      o.rounds, seconds);
  for (int callers : {1, 4}) {
    std::vector<std::function<double()>> runs = {
        [&] { return synchronize_rate(flavour::asymfence, callers, seconds); }};
#if ASYMFENCE_BENCH_HAVE_URCU
    runs.push_back([&] { return synchronize_rate(flavour::urcu, callers, seconds); });
#endif
    const std::vector<double> m = interleaved(o.rounds, runs);
#if ASYMFENCE_BENCH_HAVE_URCU
    std::printf(
        "  %d caller%s  asymfence %9.0f/s  liburcu-memb %9.0f/s  ratio %.2fx (target >= 1.0x, "
        "aim 2x) %s\n",
        callers, callers == 1 ? " " : "s", m[0], m[1], m[0] / m[1], verdict(m[0] >= m[1]));
#else
    std::printf("  %d caller%s  asymfence %9.0f/s\n", callers, callers == 1 ? " " : "s", m[0]);
#endif
  }
}

// ---- Retire then barrier --------------------------------------------------

struct retired_object : asymfence::rcu_obj_base<retired_object> {
  std::uint64_t data[2] = {};
};

NOINLINE double retire_asymfence(int n) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) (new retired_object)->retire();
  asymfence::rcu_barrier();
  return n / seconds_since(start);
}

#if ASYMFENCE_BENCH_HAVE_URCU
struct urcu_object {
  rcu_head head;
  std::uint64_t data[2] = {};
};
void free_urcu_object(rcu_head* h) {
  delete reinterpret_cast<urcu_object*>(reinterpret_cast<char*>(h) - offsetof(urcu_object, head));
}
NOINLINE double retire_urcu(int n) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) urcu_memb_call_rcu(&(new urcu_object)->head, free_urcu_object);
  urcu_memb_barrier();
  return n / seconds_since(start);
}
#endif

void retire_table(const options& o) {
  const int n = static_cast<int>(200'000 * o.scale);
  std::vector<std::function<double()>> runs = {[&] { return retire_asymfence(n); }};
#if ASYMFENCE_BENCH_HAVE_URCU
  runs.push_back([&] { return retire_urcu(n); });
#endif
  const std::vector<double> m = interleaved(o.rounds, runs);
  std::printf("\nRetire %d objects then barrier, objects per second, median of %d rounds\n", n,
              o.rounds);
#if ASYMFENCE_BENCH_HAVE_URCU
  std::printf(
      "  asymfence retire + rcu_barrier %10.0f/s  liburcu-memb call_rcu + rcu_barrier %10.0f/s  "
      "ratio %.2fx (target >= 1.0x) %s\n",
      m[0], m[1], m[0] / m[1], verdict(m[0] >= m[1]));
#else
  std::printf("  asymfence retire + rcu_barrier %10.0f/s\n", m[0]);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      o.rounds = 3;
      o.scale = 0.05;
    } else if (std::strncmp(argv[i], "--rounds=", 9) == 0 && std::atoi(argv[i] + 9) > 0) {
      o.rounds = std::atoi(argv[i] + 9);
    } else {
      std::fprintf(stderr, "usage: %s [--rounds=N] [--quick]\n", argv[0]);
      return 2;
    }
  }
#if ASYMFENCE_BENCH_HAVE_URCU
  urcu_memb_register_thread();
  std::printf(
      "asymfence RCU against liburcu-memb (read side inlined with _LGPL_SOURCE); heavy(): %s\n",
      asymfence::to_string(asymfence::active_strategy()));
#else
  std::printf("asymfence RCU alone: liburcu-memb was not found when this was built; heavy(): %s\n",
              asymfence::to_string(asymfence::active_strategy()));
#endif
  asymfence::rcu_synchronize();
  read_table(o);
  synchronize_table(o);
  retire_table(o);
#if ASYMFENCE_BENCH_HAVE_URCU
  urcu_memb_unregister_thread();
#endif
  return 0;
}
