// SPDX-License-Identifier: Apache-2.0 OR MIT
// hazard_pointer_clean_up() against what may run beside it: another
// clean-up, a deleter that cleans up, a thread that exits. Each risky part
// runs in a child process with a deadline, so a hang is a failure.
#include <gtest/gtest.h>

#include <asymfence/hazard_pointer.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "child_process.hpp"

namespace {

using asymfence::hazard_pointer_clean_up;

// Marks itself reclaimed (the flag lives outside the object).
struct flagged : asymfence::hazard_pointer_obj_base<flagged> {
  explicit flagged(std::atomic<bool>* f) : reclaimed(f) {}
  ~flagged() { reclaimed->store(true, std::memory_order_release); }
  std::atomic<bool>* reclaimed;
};

// Two threads that each retire an object and clean up, over and over. After
// each call, the object the thread retired before it must be reclaimed
// (nothing protects it), even when the other thread's clean-up took it.
TEST(HazardPointerCleanUp, ConcurrentCleanUpsFinishAndReclaimWhatTheyMust) {
  const asymfence::test::child_result child = asymfence::test::run_in_child(
      [] {
        constexpr int rounds = 20000;
        std::atomic<std::uint64_t> missed{0};
        std::atomic<int> started{0};
        auto body = [&] {
          started.fetch_add(1);
          while (started.load() < 2) {
          }
          for (int i = 0; i < rounds; ++i) {
            std::atomic<bool> reclaimed{false};
            (new flagged(&reclaimed))->retire();
            hazard_pointer_clean_up();
            if (!reclaimed.load(std::memory_order_acquire)) {
              missed.fetch_add(1);
              while (!reclaimed.load(std::memory_order_acquire)) hazard_pointer_clean_up();
            }
          }
        };
        std::thread other(body);
        body();
        other.join();
        std::printf("2 threads x %d clean-ups: %llu objects retired before a call outlived it\n",
                    rounds, static_cast<unsigned long long>(missed.load()));
        std::fflush(stdout);
        return missed.load() == 0 ? 0 : 2;
      },
      120);
  EXPECT_TRUE(child.exited) << "hung or crashed: " << child.output;
  EXPECT_EQ(child.code, 0) << child.output;
  std::printf("%s", child.output.c_str());
}

// A deleter that calls hazard_pointer_clean_up(), both from a clean-up and
// from the retiring thread's own scan (past the threshold).
struct cleaning : asymfence::hazard_pointer_obj_base<cleaning> {
  ~cleaning() {
    hazard_pointer_clean_up();
    deleted.fetch_add(1);
  }
  static std::atomic<int> deleted;
};
std::atomic<int> cleaning::deleted{0};

TEST(HazardPointerCleanUp, DeletersMayCleanUp) {
  const asymfence::test::child_result child = asymfence::test::run_in_child(
      [] {
        (new cleaning())->retire();
        hazard_pointer_clean_up();
        if (cleaning::deleted.load() != 1) return 2;
        std::printf("deleter cleaned up inside hazard_pointer_clean_up()\n");
        for (int i = 0; i < 5000; ++i) (new cleaning())->retire();  // scans on the way
        std::printf("deleters cleaned up inside retire(): %d of 5000 reclaimed by scans\n",
                    cleaning::deleted.load() - 1);
        hazard_pointer_clean_up();
        std::fflush(stdout);
        return cleaning::deleted.load() == 5001 ? 0 : 3;
      },
      60);
  EXPECT_TRUE(child.exited) << "hung or crashed: " << child.output;
  EXPECT_EQ(child.code, 0) << child.output;
  std::printf("%s", child.output.c_str());
}

// A thread retires objects, says so, and exits; the main thread cleans up at
// some moment of the exit (a random delay). The objects were retired before
// the call and nothing protects them: each call must reclaim all of them,
// also when it runs while the exiting thread hands them over.
TEST(HazardPointerCleanUp, ReclaimsObjectsOfAThreadExitingDuringTheCall) {
  const asymfence::test::child_result child = asymfence::test::run_in_child(
      [] {
        constexpr int objects = 900;  // below the scan threshold: the exit hands them over
        constexpr int trials = 3000;
        std::mt19937 random(12345);
        std::uniform_int_distribution<int> delay_spins(0, 20000);
        std::vector<std::atomic<bool>> reclaimed(objects);
        int missed = 0;
        for (int t = 0; t < trials; ++t) {
          for (auto& r : reclaimed) r.store(false, std::memory_order_relaxed);
          std::atomic<bool> retired{false};
          std::thread exiting([&] {
            for (auto& r : reclaimed) (new flagged(&r))->retire();
            retired.store(true, std::memory_order_release);
          });
          while (!retired.load(std::memory_order_acquire)) {
          }
          for (int i = delay_spins(random); i > 0; --i)
            std::atomic_signal_fence(std::memory_order_seq_cst);
          hazard_pointer_clean_up();
          bool all = true;
          for (auto& r : reclaimed) all = all && r.load(std::memory_order_acquire);
          if (!all) ++missed;
          exiting.join();
          hazard_pointer_clean_up();
        }
        std::printf("%d trials: %d calls returned with objects retired before them unreclaimed\n",
                    trials, missed);
        std::fflush(stdout);
        return missed == 0 ? 0 : 2;
      },
      240);
  EXPECT_TRUE(child.exited) << "hung or crashed: " << child.output;
  EXPECT_EQ(child.code, 0) << child.output;
  std::printf("%s", child.output.c_str());
}

}  // namespace
