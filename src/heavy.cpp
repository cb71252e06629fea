// SPDX-License-Identifier: Apache-2.0 OR MIT
// The slow path: one barrier at a time, shared by every caller that arrives
// while it is being prepared, with failure handling around the mechanism.
//
// Sharing (see docs/design.md for the full argument). One 32-bit word,
// `sequence`: bits 2 and up count the barriers started, bit 0 is set while the
// leader issues one, bit 1 while a waiter sleeps on it. A caller needs a
// barrier that starts after its arrival. It publishes its arrival with a
// read-modify-write on `sequence`; the leader starts a barrier with a
// compare-exchange on the same word, so it reads the arrival (or a later RMW
// in the same release sequence) and everything the caller did before heavy()
// happens before the system call. The leader completes with another RMW that
// waiters read with acquire, so the barrier happens before their return.
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <thread>

#include "mechanism.hpp"
#include "selection.hpp"
#include "waiter.hpp"

#if defined(__unix__)
#include <pthread.h>
#endif

namespace asymfence::detail {
namespace {

constexpr std::uint32_t in_flight = 1;    // a leader is issuing a barrier
constexpr std::uint32_t has_sleeper = 2;  // a waiter sleeps until it completes
constexpr std::uint32_t one_barrier = 4;  // the count of barriers started

alignas(64) std::atomic<std::uint32_t> sequence{0};

struct counters {
  alignas(64) std::atomic<std::uint64_t> heavy_calls{0};
  alignas(64) std::atomic<std::uint64_t> barriers_issued{0};
  std::atomic<std::uint64_t> reregistrations{0};
  std::atomic<std::uint64_t> transient_retries{0};
  std::atomic<std::uint64_t> strategy_switches{0};
};
counters counted;

// How a waiter waits. It spins, yielding its CPU every so often so that a
// preempted leader (or other callers, who then join the next barrier) can run
// on a machine with few cores; only when the barrier takes far longer than an
// expedited one (GLOBAL: milliseconds) does it sleep on the futex. Sleeping
// sooner made every wait pay a futex wake-up and a context switch, which
// halved the completed calls per second of 8 callers on 2 cores.
constexpr unsigned spins_before_sleeping = 4096;
constexpr unsigned spins_between_yields = 64;
// EINTR, EAGAIN and ENOMEM are retried this many times before they count as
// a failure of the mechanism.
constexpr int transient_retry_limit = 8;

// The sequence value at which a barrier that starts after `seen` was read
// has completed: idle at arrival, the next one to start will do; in flight, it
// may have started before the arrival, so the one after it.
std::uint32_t completion_needed(std::uint32_t seen) noexcept {
  std::uint32_t started = seen & ~(in_flight | has_sleeper);
  return started + one_barrier + ((seen & in_flight) != 0 ? one_barrier : 0);
}

// Wrap-around safe "the barrier count of seq is at or past target".
bool reached(std::uint32_t seq, std::uint32_t target) noexcept {
  return static_cast<std::int32_t>((seq & ~(in_flight | has_sleeper)) - target) >= 0;
}

// A ticket's target lies at most two barriers past the count when it is made,
// and the count only grows: a target that seems further ahead was passed long
// ago and the count wrapped. A stale ticket therefore reads as reached, and a
// pending one never does.
bool ticket_reached(std::uint32_t seq, std::uint32_t target) noexcept {
  const std::uint32_t ahead = target - (seq & ~(in_flight | has_sleeper));
  return ahead == 0 || ahead > 2 * one_barrier;
}

int issue_with_retries(const mechanism* m) noexcept {
  for (int attempt = 0;; ++attempt) {
    int error = m->issue();
    bool transient = error == EINTR || error == EAGAIN || error == ENOMEM;
    if (!transient || attempt == transient_retry_limit) return error;
    counted.transient_retries.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::yield();
  }
}

// Called with `in_flight` set by this thread (the leader): issues one barrier,
// replacing a failing mechanism, then completes and wakes the sleepers.
void lead() noexcept {
  const mechanism* m = ensure_selected();
  int error = issue_with_retries(m);
  while (error != 0) {
    m = replace_failed_mechanism(m, error);  // stops the process when none is left
    counted.strategy_switches.fetch_add(1, std::memory_order_relaxed);
    error = issue_with_retries(m);
  }
  counted.barriers_issued.fetch_add(1, std::memory_order_relaxed);
  // Complete: count the barrier, clear both flags, and wake the sleepers only
  // when one flagged itself on this barrier (its flag is read by this RMW).
  std::uint32_t old = sequence.load(std::memory_order_relaxed);
  while (!sequence.compare_exchange_weak(old, (old | in_flight | has_sleeper) + 1,
                                         std::memory_order_seq_cst, std::memory_order_relaxed)) {
  }
  if ((old & has_sleeper) != 0) wake_all(sequence);
}

bool try_lead(std::uint32_t& seen) noexcept {
  return (seen & in_flight) == 0 &&
         sequence.compare_exchange_strong(seen, seen | in_flight, std::memory_order_seq_cst,
                                          std::memory_order_acquire);
}

// Returns once a barrier that started after `seen` was read has completed,
// issuing it itself when no other thread is.
void await_barrier_after(std::uint32_t seen) noexcept {
  const std::uint32_t target = completion_needed(seen);
  unsigned spins = 0;
  for (;;) {
    std::uint32_t current = sequence.load(std::memory_order_acquire);
    if (reached(current, target)) return;
    if (try_lead(current)) {
      lead();
      return;
    }
    if ((current & in_flight) == 0) continue;  // lost the race to lead: look again
    if (spins < spins_before_sleeping) {
      ++spins;
      if (spins % spins_between_yields == 0) {
        std::this_thread::yield();
      } else {
        cpu_relax();
      }
      continue;
    }
    // Flag this barrier as having a sleeper, then sleep while it is still in
    // flight; the leader's completing RMW reads the flag and wakes us.
    std::uint32_t flagged = sequence.fetch_or(has_sleeper, std::memory_order_acquire);
    if ((flagged & ~has_sleeper) == (current & ~has_sleeper)) {
      wait_while_equal(sequence, flagged | has_sleeper);
    }
  }
}

// Heavy barriers that need no sharing: none is sound (stop), or light fences
// too and a local fence is the whole barrier. Returns true when handled.
bool heavy_without_sharing(const mechanism* m) noexcept {
  if (m == nullptr) stop_without_strategy();
  if (m->id != strategy::fence) return false;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  counted.heavy_calls.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void finish_heavy() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  counted.heavy_calls.fetch_add(1, std::memory_order_relaxed);
}

#if defined(__unix__)
// A child forked while another thread was leading would wait forever for a
// barrier that no thread of the child will complete.
void settle_sequence_in_child() noexcept {
  std::uint32_t s = sequence.load(std::memory_order_relaxed);
  if ((s & in_flight) != 0)
    sequence.store((s | in_flight | has_sleeper) + 1, std::memory_order_relaxed);
}
const int fork_handler_registered = pthread_atfork(nullptr, nullptr, settle_sequence_in_child);
#endif

}  // namespace

void count_reregistration() noexcept {
  counted.reregistrations.fetch_add(1, std::memory_order_relaxed);
}

void heavy_slow() noexcept {
  if (heavy_without_sharing(ensure_selected())) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::uint32_t seen = sequence.load(std::memory_order_relaxed);
  if (try_lead(seen)) {
    lead();
  } else {
    // Publish the arrival with an RMW (see the comment at the top).
    seen = sequence.fetch_add(0, std::memory_order_seq_cst);
    await_barrier_after(seen);
  }
  finish_heavy();
}

}  // namespace asymfence::detail

namespace asymfence {

bool try_heavy() noexcept {
  using namespace detail;
  if (heavy_without_sharing(ensure_selected())) return true;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint32_t arrival = sequence.fetch_add(0, std::memory_order_seq_cst);
  std::uint32_t seen = arrival;
  if (try_lead(seen)) {
    lead();
  } else if ((arrival & in_flight) != 0 || !reached(seen, completion_needed(arrival))) {
    // In flight since before our arrival, or started after it and not yet
    // complete: either way we would have to wait.
    return false;
  }
  finish_heavy();
  return true;
}

heavy_ticket start_heavy() noexcept {
  using namespace detail;
  if (heavy_without_sharing(ensure_selected())) return heavy_ticket{0, true};
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Publish the arrival with an RMW (see the comment at the top).
  const std::uint32_t arrival = sequence.fetch_add(0, std::memory_order_seq_cst);
  std::uint32_t seen = arrival;
  if (try_lead(seen)) lead();
  return heavy_ticket{completion_needed(arrival), false};
}

bool heavy_completed(heavy_ticket ticket) noexcept {
  using namespace detail;
  if (ticket.done) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return true;
  }
  std::uint32_t current = sequence.load(std::memory_order_acquire);
  if (!ticket_reached(current, ticket.target)) {
    if (!try_lead(current)) return false;
    lead();  // the barrier this thread issues began after the arrival
  }
  finish_heavy();
  return true;
}

statistics stats() noexcept {
  using detail::counted;
  return {counted.heavy_calls.load(std::memory_order_relaxed),
          counted.barriers_issued.load(std::memory_order_relaxed),
          counted.reregistrations.load(std::memory_order_relaxed),
          counted.transient_retries.load(std::memory_order_relaxed),
          counted.strategy_switches.load(std::memory_order_relaxed)};
}

}  // namespace asymfence
