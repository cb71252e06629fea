// SPDX-License-Identifier: Apache-2.0 OR MIT
// Hazard pointers: the read side against its floor, and the cost of retiring
// and reclaiming an object.
//
// Read side: protect + reset_protection in a loop, beside the same loop
// written by hand with a bare compiler barrier where light() goes (the floor:
// a plain store, a load, a compare, a plain store) and with the classic
// seq_cst fence. Reclamation: new, retire and (amortised) scan + delete per
// object, on 1, 2 and 4 threads. After the Google Benchmark runs, the read
// side ratios are measured again interleaved round by round (medians) and
// printed with PASS or MISS; speed is never asserted.
#include <benchmark/benchmark.h>

#include <asymfence/hazard_pointer.hpp>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <vector>

#include "benchmark_runner.hpp"
#include "workloads.hpp"

namespace {

struct node : asymfence::hazard_pointer_obj_base<node> {
  int value = 1;
};

node shared_node;
std::atomic<node*> source{&shared_node};

// The floor and the classic protect, written like try_protect.
alignas(64) std::atomic<const void*> hand_slot{nullptr};

template <bool fence>
[[gnu::noinline]] int hand_loop(std::uint64_t n) {
  int sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    node* p = source.load(std::memory_order_relaxed);
    for (;;) {
      hand_slot.store(p, std::memory_order_release);
      if (fence) {
        std::atomic_thread_fence(std::memory_order_seq_cst);
      } else {
        std::atomic_signal_fence(std::memory_order_seq_cst);
      }
      node* q = source.load(std::memory_order_acquire);
      if (q == p) break;
      p = q;
    }
    sum += p->value;
    hand_slot.store(nullptr, std::memory_order_release);
  }
  return sum;
}

[[gnu::noinline]] int protect_loop(asymfence::hazard_pointer& hp, std::uint64_t n) {
  int sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    node* p = hp.protect(source);
    sum += p->value;
    hp.reset_protection();
  }
  return sum;
}

void BM_ProtectReset_CompilerBarrierFloor(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(hand_loop<false>(1000));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
}
void BM_ProtectReset_HazardPointer(benchmark::State& state) {
  asymfence::hazard_pointer hp = asymfence::make_hazard_pointer();
  for (auto _ : state) benchmark::DoNotOptimize(protect_loop(hp, 1000));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
}
void BM_ProtectReset_SeqCstFence(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(hand_loop<true>(1000));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
}

[[gnu::noinline]] void retire_objects(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) (new node())->retire();
}

// Each thread allocates and retires; reclamation happens in the retiring
// threads' scans (amortised over the batch), and the last clean-up is timed
// too, so that every object retired is also reclaimed inside the figure.
void BM_RetireReclaim(benchmark::State& state) {
  for (auto _ : state) retire_objects(1000);
  if (state.thread_index() == 0) asymfence::hazard_pointer_clean_up();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
}

BENCHMARK(BM_ProtectReset_CompilerBarrierFloor);
BENCHMARK(BM_ProtectReset_HazardPointer);
BENCHMARK(BM_ProtectReset_SeqCstFence);
BENCHMARK(BM_RetireReclaim)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

double cpu_ns_per(std::uint64_t n, int (*loop)(std::uint64_t)) {
  const double start = asymfence::bench::thread_cpu_ns();
  benchmark::DoNotOptimize(loop(n));
  return (asymfence::bench::thread_cpu_ns() - start) / static_cast<double>(n);
}

asymfence::hazard_pointer* ratio_hp = nullptr;
int protect_n(std::uint64_t n) { return protect_loop(*ratio_hp, n); }

void print_ratios(int rounds, std::uint64_t n) {
  asymfence::hazard_pointer hp = asymfence::make_hazard_pointer();
  ratio_hp = &hp;
  int (*loops[3])(std::uint64_t) = {&hand_loop<false>, &protect_n, &hand_loop<true>};
  std::vector<double> samples[3];
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 3; ++k) {
      const int i = (k + r) % 3;
      samples[i].push_back(cpu_ns_per(n, loops[i]));
    }
  }
  double ns[3];
  for (int i = 0; i < 3; ++i) ns[i] = asymfence::bench::median(samples[i]);
  std::printf(
      "\nprotect + reset_protection, CPU ns each (median of %d interleaved rounds of %llu): "
      "compiler-barrier floor %.3f, hazard_pointer %.3f, seq_cst-fence protect %.3f\n",
      rounds, static_cast<unsigned long long>(n), ns[0], ns[1], ns[2]);
  const double ratio = ns[1] / ns[0];
  std::printf("  %-44s %7.2f   target %-16s %s\n", "hazard_pointer / floor", ratio, "<= 1.5",
              ratio <= 1.5 ? "PASS" : "MISS");
  std::printf("  %-44s %7.2f\n", "seq_cst-fence protect / hazard_pointer", ns[2] / ns[1]);
}

bool register_nothing() { return true; }

}  // namespace

int main(int argc, char** argv) {
  // --ratio_rounds=N (default 15); 0 skips the interleaved ratios.
  int rounds = 15;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--ratio_rounds=", 15) == 0) {
      rounds = std::atoi(argv[i] + 15);
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_count = static_cast<int>(rest.size());
  const int status = asymfence::bench::run_benchmarks(rest_count, rest.data(), register_nothing);
  if (status == 0 && rounds > 0) print_ratios(rounds, 2'000'000);
  return status;
}
