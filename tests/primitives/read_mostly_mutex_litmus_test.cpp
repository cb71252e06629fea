// SPDX-License-Identifier: Apache-2.0 OR MIT
// The read_mostly_mutex handshake is store buffering: the reader stores its
// slot, runs light() and loads the writer's flag; the writer raises the flag,
// runs heavy() and loads the slot. Two pinned threads run one handshake per
// round, lined up by a spin barrier, and neither leaves before both have
// looked: "both inside at once" is both sides missing the other's store.
// The control replaces the writer's heavy() by a plain seq_cst fence (the
// reader's light() stays a compiler barrier) and must show it; with heavy()
// it must never appear, on the writer's half alone and through try_lock().
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <asymfence/read_mostly_mutex.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "emulator.hpp"
#include "primitives/read_mostly_mutex_internal.hpp"
#include "store_buffering.hpp"
#include "waiter.hpp"

namespace {

using asymfence::read_mostly_mutex;

struct outcome {
  std::uint64_t rounds = 0;
  std::uint64_t both_inside = 0;  // the forbidden outcome
  bool pinned = false;
};

enum class writer_side { half, try_lock };

// Two threads meet at phase p once both have arrived.
class spin_barrier {
 public:
  void meet(std::uint64_t phase) noexcept {
    arrived_.fetch_add(1, std::memory_order_acq_rel);
    // Yields now and then: on a loaded machine the other side may be descheduled.
    for (unsigned spins = 1; arrived_.load(std::memory_order_acquire) < 2 * phase; ++spins) {
      if (spins % 1024 == 0) {
        std::this_thread::yield();
      } else {
        asymfence::detail::cpu_relax();
      }
    }
  }

 private:
  std::atomic<std::uint64_t> arrived_{0};
};

outcome run_handshakes(std::uint64_t rounds, writer_side side, double seconds) {
  read_mostly_mutex m;
  spin_barrier barrier;
  std::atomic<const asymfence::detail::read_mostly_reader*> reader_record{nullptr};
  std::atomic<bool> stop{false};
  std::atomic<bool> reader_pinned{false};
  bool reader_inside[2] = {false, false};  // per round parity, read after the barrier
  outcome result;

  std::thread reader([&] {
    reader_pinned.store(asymfence::litmus::pin_to_nth_allowed_cpu(0));
    // First use acquires the record; the writer's half looks at it.
    m.lock_shared();
    m.unlock_shared();
    reader_record.store(asymfence::detail::read_mostly_current);
    std::uint32_t jitter = 12345;
    for (std::uint64_t i = 1;; ++i) {
      barrier.meet(3 * i - 2);
      if (stop.load(std::memory_order_relaxed)) break;
      jitter = jitter * 1103515245u + 12345u;
      for (std::uint32_t k = (jitter >> 16) % 8; k > 0; --k) asymfence::detail::cpu_relax();
      const bool inside = m.try_lock_shared();
      reader_inside[i % 2] = inside;
      barrier.meet(3 * i - 1);  // both have looked
      if (inside) m.unlock_shared();
      barrier.meet(3 * i);
    }
  });

  // The writer is this thread: pin it for the run only (the next run's reader
  // inherits this thread's CPUs, and must find both).
  cpu_set_t cpus_before;
  pthread_getaffinity_np(pthread_self(), sizeof cpus_before, &cpus_before);
  const bool writer_pinned = asymfence::litmus::pin_to_nth_allowed_cpu(1);
  while (reader_record.load() == nullptr) std::this_thread::yield();
  const asymfence::detail::read_mostly_reader& record = *reader_record.load();
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 1;; ++i) {
    const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start;
    const bool last = i > rounds || (seconds > 0 && spent.count() > seconds);
    if (last) stop.store(true, std::memory_order_relaxed);
    barrier.meet(3 * i - 2);
    if (last) break;
    bool inside = false;
    if (side == writer_side::half) {
      inside = !asymfence::detail::raise_flag_and_look_for_testing(m, record);
    } else {
      inside = m.try_lock();
    }
    barrier.meet(3 * i - 1);
    if (inside && reader_inside[i % 2]) ++result.both_inside;
    if (side == writer_side::half) {
      asymfence::detail::lower_flag_for_testing(m);
    } else if (inside) {
      m.unlock();
    }
    barrier.meet(3 * i);
    result.rounds = i;
  }
  reader.join();
  pthread_setaffinity_np(pthread_self(), sizeof cpus_before, &cpus_before);
  result.pinned = writer_pinned && reader_pinned.load();
  return result;
}

void plain_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

std::string reason_to_skip() {
  if (!asymfence::test::emulator_name().empty()) {
    return "under " + asymfence::test::emulator_name() + ", which runs threads in host order";
  }
  if (ASYMFENCE_TSAN) return "ThreadSanitizer: light() is a real fence, the control cannot fail";
  if (!ASYMFENCE_LIGHT_IS_COMPILER_BARRIER) return "light() fences in this build";
  if (std::thread::hardware_concurrency() < 2) return "one CPU: the sides never overlap";
  if (asymfence::active_strategy() == asymfence::strategy::fence) return "fence strategy";
  return "";
}

TEST(ReadMostlyMutexLitmus, ReaderAndWriterAreNeverInsideAtOnce) {
  ASYMFENCE_SKIP_UNDER_EMULATOR(
      "an emulator runs with its host's memory order, so the control proves nothing there");
  const std::string skip = reason_to_skip();
  if (!skip.empty()) GTEST_SKIP() << skip;

  // Control: the writer's heavy() replaced by a plain fence.
  asymfence::detail::set_read_mostly_writer_barrier_for_testing(&plain_fence);
  int attempts = 0;
  const outcome control = asymfence::litmus::repeat_until_forbidden(
                              [] {
                                outcome o = run_handshakes(200'000, writer_side::half, 20);
                                struct {
                                  std::uint64_t forbidden;
                                  outcome o;
                                } r{o.both_inside, o};
                                return r;
                              },
                              asymfence::litmus::control_patience_seconds, &attempts)
                              .o;
  const outcome control_try_lock = run_handshakes(100'000, writer_side::try_lock, 10);
  asymfence::detail::set_read_mostly_writer_barrier_for_testing(nullptr);

  const outcome real = run_handshakes(500'000, writer_side::half, 20);
  const outcome real_try_lock = run_handshakes(200'000, writer_side::try_lock, 20);
  std::printf(
      "[ litmus   ] strategy %s, pinned %s\n"
      "[ litmus   ] control (plain fence), writer's half: %llu rounds, %llu both inside "
      "(%d attempts)\n"
      "[ litmus   ] control (plain fence), try_lock: %llu rounds, %llu both inside (not asserted)\n"
      "[ litmus   ] heavy(), writer's half: %llu rounds, %llu both inside\n"
      "[ litmus   ] heavy(), try_lock: %llu rounds, %llu both inside\n",
      asymfence::to_string(asymfence::active_strategy()), real.pinned ? "yes" : "no",
      static_cast<unsigned long long>(control.rounds),
      static_cast<unsigned long long>(control.both_inside), attempts,
      static_cast<unsigned long long>(control_try_lock.rounds),
      static_cast<unsigned long long>(control_try_lock.both_inside),
      static_cast<unsigned long long>(real.rounds),
      static_cast<unsigned long long>(real.both_inside),
      static_cast<unsigned long long>(real_try_lock.rounds),
      static_cast<unsigned long long>(real_try_lock.both_inside));
  EXPECT_GT(control.both_inside, 0u)
      << "the control never let both in: the harness cannot see violations";
  EXPECT_EQ(real.both_inside, 0u) << "a reader and a writer were inside at once";
  EXPECT_EQ(real_try_lock.both_inside, 0u) << "try_lock let a writer in beside a reader";
  EXPECT_GT(real.rounds, 1000u);
  EXPECT_GT(real_try_lock.rounds, 1000u);
}

}  // namespace
