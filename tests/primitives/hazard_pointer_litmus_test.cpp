// SPDX-License-Identifier: Apache-2.0 OR MIT
// The read-side race of hazard pointers is store buffering:
//
//     reader:    slot = x; light() (A); r = src          (try_protect)
//     reclaimer: src = y;  heavy() (B); read the slots   (scan)
//
// Each round, on two pinned CPUs, the reader try_protects x while the
// reclaimer unlinks x and scans it through the library's scan. If the reader
// got x (r == x) and the scan missed its slot, the scan runs x's deleter,
// which marks x dead; the reader, still protecting x, finds the mark once the
// round's scan is over. With the real scan barrier this never happens; the
// control replaces the scan's heavy() by a plain seq_cst fence (the reader's
// light() stays a compiler barrier) and must show dead objects.
#include <gtest/gtest.h>

#include <asymfence/asymfence.hpp>
#include <asymfence/hazard_pointer.hpp>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>

#include "emulator.hpp"
#include "primitives/hazard_pointer_testing.hpp"
#include "store_buffering.hpp"

namespace {

struct marker;
struct mark_dead {
  void operator()(marker* m) const noexcept;
};
// Never freed (a pool), so a reader may look at a reclaimed one.
struct marker : asymfence::hazard_pointer_obj_base<marker, mark_dead> {
  std::atomic<int> dead{0};
};
void mark_dead::operator()(marker* m) const noexcept {
  m->dead.store(1, std::memory_order_relaxed);
}

void reclaim_marker(asymfence::detail::hazard_pointer_link* link) noexcept {
  mark_dead{}(static_cast<marker*>(
      static_cast<asymfence::hazard_pointer_obj_base<marker, mark_dead>*>(link)));
}

struct alignas(64) padded_round {
  std::atomic<std::uint64_t> value{0};
};

struct outcome {
  std::uint64_t iterations = 0;
  std::uint64_t forbidden = 0;  // a protected object was reclaimed
  std::uint64_t protected_rounds = 0;
};

outcome run_rounds(std::uint64_t iterations) {
  std::unique_ptr<marker[]> pool(new marker[iterations + 1]);
  alignas(64) std::atomic<marker*> src{&pool[0]};
  padded_round arrivals;
  padded_round scanned;
  outcome result;
  result.iterations = iterations;
  std::uint64_t forbidden = 0;
  std::uint64_t protected_rounds = 0;

  std::thread reader([&] {
    asymfence::litmus::pin_to_nth_allowed_cpu(0);
    asymfence::hazard_pointer hp = asymfence::make_hazard_pointer();
    for (std::uint64_t i = 0; i < iterations; ++i) {
      arrivals.value.fetch_add(1, std::memory_order_acq_rel);
      while (arrivals.value.load(std::memory_order_acquire) < 2 * (i + 1)) {
      }
      marker* ptr = &pool[i];
      const bool ok = hp.try_protect(ptr, src);
      while (scanned.value.load(std::memory_order_acquire) < i + 1) {
      }
      if (ok) {
        ++protected_rounds;
        if (ptr->dead.load(std::memory_order_relaxed) != 0) ++forbidden;
        hp.reset_protection();
      }
    }
  });
  std::thread reclaimer([&] {
    asymfence::litmus::pin_to_nth_allowed_cpu(1);
    for (std::uint64_t i = 0; i < iterations; ++i) {
      marker& x = pool[i];
      x.next_retired = nullptr;
      x.address = &x;
      x.reclaim = &reclaim_marker;
      arrivals.value.fetch_add(1, std::memory_order_acq_rel);
      while (arrivals.value.load(std::memory_order_acquire) < 2 * (i + 1)) {
      }
      src.store(&pool[i + 1], std::memory_order_relaxed);  // unlink x
      asymfence::detail::scan_for_testing(&x);
      scanned.value.store(i + 1, std::memory_order_release);
    }
  });
  reader.join();
  reclaimer.join();
  result.forbidden = forbidden;
  result.protected_rounds = protected_rounds;
  return result;
}

std::string reason_to_skip() {
  if (ASYMFENCE_TSAN) return "ThreadSanitizer: light() is a real fence, the control cannot fail";
  if (std::thread::hardware_concurrency() < 2) return "one CPU: the two sides never overlap";
  const asymfence::strategy s = asymfence::active_strategy();
  if (s == asymfence::strategy::fence || s == asymfence::strategy::none) {
    return std::string("strategy ") + asymfence::to_string(s) + ": light() is a fence here";
  }
  return "";
}

TEST(HazardPointerStoreBuffering, RealScanBarrierNeverReclaimsAProtectedObject) {
  ASYMFENCE_SKIP_UNDER_EMULATOR(
      "an emulator runs with its host's memory order, so the control proves nothing there");
  const std::string skip = reason_to_skip();
  if (!skip.empty()) GTEST_SKIP() << skip;
  const asymfence::statistics before = asymfence::stats();
  const outcome real = run_rounds(50'000);  // heavy() costs about 0.4 ms on our VMs
  const std::uint64_t heavy_calls = asymfence::stats().heavy_calls - before.heavy_calls;
  std::printf(
      "[ hazard   ] real (%s): %llu rounds, %llu protected, %llu reclaimed while "
      "protected; %llu heavy calls\n",
      asymfence::to_string(asymfence::active_strategy()),
      static_cast<unsigned long long>(real.iterations),
      static_cast<unsigned long long>(real.protected_rounds),
      static_cast<unsigned long long>(real.forbidden),
      static_cast<unsigned long long>(heavy_calls));
  EXPECT_EQ(real.forbidden, 0u) << "a scan reclaimed an object a reader had protected";
  EXPECT_GT(real.protected_rounds, 0u);
  EXPECT_GE(heavy_calls, real.iterations) << "the scans did not all issue heavy()";
}

TEST(HazardPointerStoreBuffering, ControlWithAPlainFenceReclaimsProtectedObjects) {
  ASYMFENCE_SKIP_UNDER_EMULATOR(
      "an emulator runs with its host's memory order, so the control proves nothing there");
  const std::string skip = reason_to_skip();
  if (!skip.empty()) GTEST_SKIP() << skip;
  asymfence::detail::set_hazard_scan_barrier_for_testing(&asymfence::litmus::seq_cst_fence);
  int attempts = 0;
  const outcome control = asymfence::litmus::repeat_until_forbidden(
      [] { return run_rounds(200'000); }, asymfence::litmus::control_patience_seconds, &attempts);
  asymfence::detail::set_hazard_scan_barrier_for_testing(nullptr);
  std::printf(
      "[ hazard   ] control (plain fence): %llu rounds x %d attempts, last: %llu "
      "protected, %llu reclaimed while protected\n",
      static_cast<unsigned long long>(control.iterations), attempts,
      static_cast<unsigned long long>(control.protected_rounds),
      static_cast<unsigned long long>(control.forbidden));
  EXPECT_GT(control.forbidden, 0u)
      << "the control never reclaimed a protected object: the test cannot see violations";
}

}  // namespace
