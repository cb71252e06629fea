// SPDX-License-Identifier: Apache-2.0 OR MIT
// read_mostly_mutex against std::shared_mutex in one run: a shared section on
// one thread, two readers on two CPUs sharing one mutex, a writer's
// lock+unlock alone and beside a busy reader, and mixed workloads at several
// write ratios. After Google Benchmark's table it prints the ratios with
// PASS/MISS against the targets of docs/read-mostly-mutex.md and the
// crossover write ratio. Speed is reported, never asserted.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <asymfence/read_mostly_mutex.hpp>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "store_buffering.hpp"  // pin_to_nth_allowed_cpu

namespace {

using rmm = asymfence::read_mostly_mutex;
using std_rw = std::shared_mutex;

template <class M>
struct guarded {
  M m;
  long data = 0;
};
template <class M>
guarded<M>& shared_object() {
  static guarded<M> object;
  return object;
}

// Each measured operation in its own function, the same for both mutexes.
template <class M>
__attribute__((noinline)) long shared_section(guarded<M>& g) {
  g.m.lock_shared();
  const long v = g.data;
  g.m.unlock_shared();
  return v;
}
template <class M>
__attribute__((noinline)) void write_section(guarded<M>& g) {
  g.m.lock();
  ++g.data;
  g.m.unlock();
}

// Pins benchmark thread i to the i-th CPU for the run and restores its CPUs.
class pinned {
 public:
  explicit pinned(int n) {
    pthread_getaffinity_np(pthread_self(), sizeof before_, &before_);
    ok_ = asymfence::litmus::pin_to_nth_allowed_cpu(n);
  }
  ~pinned() { pthread_setaffinity_np(pthread_self(), sizeof before_, &before_); }
  bool ok() const { return ok_; }

 private:
  cpu_set_t before_;
  bool ok_ = false;
};

template <class M>
void BM_SharedSection(benchmark::State& state) {
  pinned pin(state.thread_index());
  guarded<M>& g = shared_object<M>();
  for (auto _ : state) benchmark::DoNotOptimize(shared_section(g));
  state.SetItemsProcessed(state.iterations());
  if (state.threads() > 1 && !pin.ok()) state.SkipWithError("cannot pin to distinct CPUs");
}

template <class M>
void BM_WriterAlone(benchmark::State& state) {
  guarded<M>& g = shared_object<M>();
  for (auto _ : state) write_section(g);
  state.SetItemsProcessed(state.iterations());
}

// A reader on another CPU keeps entering and leaving the same mutex.
template <class M>
void BM_WriterBesideBusyReader(benchmark::State& state) {
  guarded<M>& g = shared_object<M>();
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::thread reader([&] {
    pinned pin(1);
    for (long n = 1; !stop.load(std::memory_order_relaxed); ++n) {
      benchmark::DoNotOptimize(shared_section(g));
      if (n % 256 == 0) reads.store(n, std::memory_order_relaxed);
    }
  });
  pinned pin(0);
  // Time only once the reader runs (on a loaded machine it may wait for a CPU).
  while (reads.load(std::memory_order_relaxed) < 1024) std::this_thread::yield();
  const long reads_before = reads.load(std::memory_order_relaxed);
  for (auto _ : state) write_section(g);
  const long reads_during = reads.load(std::memory_order_relaxed) - reads_before;
  stop.store(true);
  reader.join();
  state.SetItemsProcessed(state.iterations());
  // Reported, not judged: a writer-preferring lock may starve the reader.
  state.counters["reader_sections"] = static_cast<double>(reads_during);
}

// Two threads on two CPUs; every `range(0)`-th operation of each is a write.
template <class M>
void BM_Mixed(benchmark::State& state) {
  pinned pin(state.thread_index());
  guarded<M>& g = shared_object<M>();
  const long every = state.range(0);
  long n = state.thread_index() * (every / 2);  // the threads write at different times
  for (auto _ : state) {
    if (++n % every == 0) {
      write_section(g);
    } else {
      benchmark::DoNotOptimize(shared_section(g));
    }
  }
  state.SetItemsProcessed(state.iterations());
}

const long mixed_every[] = {100000, 10000, 1000, 100, 10};

void register_benchmarks() {
  auto ns = [](benchmark::internal::Benchmark* b) { return b->Unit(benchmark::kNanosecond); };
  ns(benchmark::RegisterBenchmark("shared_section/1/read_mostly_mutex", BM_SharedSection<rmm>))
      ->UseRealTime();
  ns(benchmark::RegisterBenchmark("shared_section/1/std::shared_mutex", BM_SharedSection<std_rw>))
      ->UseRealTime();
  ns(benchmark::RegisterBenchmark("shared_section/2/read_mostly_mutex", BM_SharedSection<rmm>))
      ->Threads(2)
      ->UseRealTime();
  ns(benchmark::RegisterBenchmark("shared_section/2/std::shared_mutex", BM_SharedSection<std_rw>))
      ->Threads(2)
      ->UseRealTime();
  ns(benchmark::RegisterBenchmark("writer/alone/read_mostly_mutex", BM_WriterAlone<rmm>))
      ->UseRealTime();
  ns(benchmark::RegisterBenchmark("writer/alone/std::shared_mutex", BM_WriterAlone<std_rw>))
      ->UseRealTime();
  ns(benchmark::RegisterBenchmark("writer/busy_reader/read_mostly_mutex",
                                  BM_WriterBesideBusyReader<rmm>))
      ->UseRealTime();
  ns(benchmark::RegisterBenchmark("writer/busy_reader/std::shared_mutex",
                                  BM_WriterBesideBusyReader<std_rw>))
      ->UseRealTime();
  for (long every : mixed_every) {
    ns(benchmark::RegisterBenchmark("mixed/read_mostly_mutex", BM_Mixed<rmm>))
        ->Arg(every)
        ->Threads(2)
        ->UseRealTime();
    ns(benchmark::RegisterBenchmark("mixed/std::shared_mutex", BM_Mixed<std_rw>))
        ->Arg(every)
        ->Threads(2)
        ->UseRealTime();
  }
}

// Per operation, all threads together: real time, and CPU time (what the
// operations cost while running; on a loaded machine the threads wait for a
// CPU and real time grows, CPU time does not).
struct figure {
  double ns = 0;
  double cpu_ns = 0;
  double reader_sections = -1;  // the busy reader's sections during the writer's run
};

class collecting_reporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, figure> figures;
  // One figure per benchmark: its median when repeated, else its only run.
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      figure f{r.GetAdjustedRealTime(), r.GetAdjustedCPUTime()};
      auto it = r.counters.find("reader_sections");
      if (it != r.counters.end()) f.reader_sections = it->second.value;
      figures[r.run_name.str()] = f;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

const figure* find(const collecting_reporter& rep, const std::string& name) {
  auto it = rep.figures.find(name + "/real_time");
  if (it == rep.figures.end()) it = rep.figures.find(name + "/real_time/threads:2");
  return it == rep.figures.end() ? nullptr : &it->second;
}

void verdict(const char* what, double real_ratio, double cpu_ratio, double target) {
  std::printf("  %-52s real %6.2fx %s   CPU %6.2fx %s   (target >= %.1fx)\n", what, real_ratio,
              real_ratio >= target ? "PASS" : "MISS", cpu_ratio,
              cpu_ratio >= target ? "PASS" : "MISS", target);
}

// Crossover write share w from per-operation costs: (1 - w) * read + w * write
// is equal for both mutexes at w = gain / (gain + loss); prints 1/w.
void crossover(const char* what, double read_rmm, double read_std, double write_rmm,
               double write_std) {
  const double gain = read_std - read_rmm, loss = write_rmm - write_std;
  if (gain > 0 && loss > 0) {
    std::printf("  crossover, %s: 1 write in %.0f operations\n", what, (gain + loss) / gain);
  }
}

void summary(const collecting_reporter& rep) {
  std::printf("\nread_mostly_mutex against std::shared_mutex (this run, %u CPUs; medians)\n",
              std::thread::hardware_concurrency());
  const figure* r1 = find(rep, "shared_section/1/read_mostly_mutex");
  const figure* s1 = find(rep, "shared_section/1/std::shared_mutex");
  const figure* r2 = find(rep, "shared_section/2/read_mostly_mutex");
  const figure* s2 = find(rep, "shared_section/2/std::shared_mutex");
  const figure* rw = find(rep, "writer/alone/read_mostly_mutex");
  const figure* sw = find(rep, "writer/alone/std::shared_mutex");
  const figure* rb = find(rep, "writer/busy_reader/read_mostly_mutex");
  const figure* sb = find(rep, "writer/busy_reader/std::shared_mutex");
  if (r1 && s1) {
    std::printf("  shared section, one reader: %.2f ns (CPU %.2f) against %.2f ns (CPU %.2f)\n",
                r1->ns, r1->cpu_ns, s1->ns, s1->cpu_ns);
    verdict("one reader, cheaper than std::shared_mutex by", s1->ns / r1->ns,
            s1->cpu_ns / r1->cpu_ns, 8);
  }
  if (r2 && s2) {
    std::printf(
        "  two readers, one mutex: %.3g sections/s (per CPU-second %.3g) against %.3g (%.3g)\n",
        1e9 / r2->ns, 1e9 / r2->cpu_ns, 1e9 / s2->ns, 1e9 / s2->cpu_ns);
    verdict("two readers, sections/s over std::shared_mutex's", s2->ns / r2->ns,
            s2->cpu_ns / r2->cpu_ns, 8);
  }
  if (r1 && r2) {
    // CPU: two readers on two free CPUs would run at 2 x (one reader's CPU cost
    // per section / two readers' CPU cost per section) of one reader's rate.
    verdict("two readers over one reader (CPU: projected)", r1->ns / r2->ns,
            2 * r1->cpu_ns / r2->cpu_ns, 1.5);
  }
  if (rw && sw) {
    std::printf("  writer lock+unlock alone: %.0f ns (CPU %.0f) against %.1f ns (CPU %.1f)\n",
                rw->ns, rw->cpu_ns, sw->ns, sw->cpu_ns);
  }
  if (rb && sb) {
    std::printf(
        "  writer lock+unlock beside a busy reader: %.0f ns (CPU %.0f) against %.0f ns "
        "(CPU %.0f)\n",
        rb->ns, rb->cpu_ns, sb->ns, sb->cpu_ns);
  }
  if (r1 && s1 && rw && sw) crossover("one thread", r1->ns, s1->ns, rw->ns, sw->ns);
  if (r2 && s2 && rb && sb) {
    // Two readers' cost per section per thread against a writer beside a reader.
    crossover("two CPUs", 2 * r2->ns, 2 * s2->ns, rb->ns, sb->ns);
  }
  std::printf("  mixed, two threads on two CPUs (sections/s, all threads; CPU: per CPU-second):\n");
  long wins_at = 0, loses_at = 0;
  for (long every : mixed_every) {
    const std::string suffix = "/" + std::to_string(every);
    const figure* rm = find(rep, "mixed/read_mostly_mutex" + suffix);
    const figure* sm = find(rep, "mixed/std::shared_mutex" + suffix);
    if (!rm || !sm) continue;
    const double cpu_ratio = sm->cpu_ns / rm->cpu_ns;
    std::printf(
        "    1 write in %6ld: read_mostly_mutex %.3g (CPU %.3g), std::shared_mutex %.3g "
        "(CPU %.3g): real %.2fx, CPU %.2fx\n",
        every, 1e9 / rm->ns, 1e9 / rm->cpu_ns, 1e9 / sm->ns, 1e9 / sm->cpu_ns, sm->ns / rm->ns,
        cpu_ratio);
    if (cpu_ratio >= 1) wins_at = every;
    if (cpu_ratio < 1 && loses_at == 0) loses_at = every;
  }
  if (wins_at > 0 && loses_at > 0) {
    std::printf("  mixed crossover (CPU): wins at 1 write in %ld, loses at 1 in %ld\n", wins_at,
                loses_at);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  register_benchmarks();
  collecting_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  summary(reporter);
  return 0;
}
