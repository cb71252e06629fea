// SPDX-License-Identifier: Apache-2.0 OR MIT
// The slow path: one barrier at a time, shared by every caller that arrives
// while it is being prepared, with failure handling around the mechanism.
// docs/design.md, section 7, has the full argument.
//
// Sharing. One 32-bit word, `sequence`: bits 2 and up count the barriers
// completed, bit 0 is set while the leader issues one, bit 1 while a waiter
// sleeps on it. A caller needs a barrier that starts after its arrival. It
// publishes its arrival with a read-modify-write on `sequence`; the leader
// starts a barrier with a compare-exchange on the same word, so it reads the
// arrival (or a later RMW in the same release sequence) and everything the
// caller did before heavy() happens before the system call. The leader
// completes with another RMW that waiters read with acquire, so the barrier
// happens before their return. Tickets (start_heavy) count in `completed`, a
// 64-bit count that the leader advances before its completing RMW, so that a
// ticket never wraps.
//
// Forked children. A child may start with `in_flight` set by a thread of its
// parent that the child does not have. A leader sets the slow-path process
// mark before it sets `in_flight`; a caller that has waited a while and finds
// `in_flight` set while the mark is not set by its own process knows that the
// barrier was copied from the parent, claims the mark and leads the barrier
// itself (process_mark.hpp). Sleeps are bounded so that sleepers look again.
//
// Signal handlers. `leading` is set while this thread may hold `in_flight`. A
// call from a handler that interrupted it must not wait for that barrier (it
// cannot complete until the handler returns), so it issues a barrier of its
// own where the mechanism allows re-entry, and otherwise stops the process
// (heavy()) or answers false (try_heavy(), heavy_completed()).
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <thread>

#include "errors.hpp"
#include "mechanism.hpp"
#include "process_mark.hpp"
#include "selection.hpp"
#include "signal_safety.hpp"
#include "waiter.hpp"

#if !defined(_WIN32)
#include <time.h>
#endif

namespace asymfence::detail {
namespace {

constexpr std::uint32_t in_flight = 1;    // a leader is issuing a barrier
constexpr std::uint32_t has_sleeper = 2;  // a waiter sleeps until it completes
constexpr std::uint32_t one_barrier = 4;  // the count of barriers completed

// `completed` counts the barriers completed through `sequence`, for tickets;
// only leaders write it, just before their completing RMW on `sequence`, so
// the two share a cache line.
struct alignas(64) slow_path_words {
  std::atomic<std::uint32_t> sequence{0};
  std::atomic<std::uint64_t> completed{0};
};
slow_path_words words;
std::atomic<std::uint32_t>& sequence = words.sequence;
std::atomic<std::uint64_t>& completed = words.completed;
static_assert(std::atomic<std::uint32_t>::is_always_lock_free &&
                  std::atomic<std::uint64_t>::is_always_lock_free,
              "the slow path must be usable from signal handlers");

struct counters {
  alignas(64) std::atomic<std::uint64_t> heavy_calls{0};
  alignas(64) std::atomic<std::uint64_t> barriers_issued{0};
  std::atomic<std::uint64_t> reregistrations{0};
  std::atomic<std::uint64_t> transient_retries{0};
  std::atomic<std::uint64_t> strategy_switches{0};
};
counters counted;

// Set while this thread may hold `in_flight` (from just before it tries to
// set it until it has cleared it).
ASYMFENCE_SIGNAL_SAFE_THREAD_LOCAL bool leading = false;

// How a waiter waits. It spins, yielding its CPU every so often so that a
// preempted leader (or other callers, who then join the next barrier) can run
// on a machine with few cores; only when the barrier takes far longer than an
// expedited one (GLOBAL: milliseconds) does it sleep on the futex. Sleeping
// sooner made every wait pay a futex wake-up and a context switch, which
// halved the completed calls per second of 8 callers on 2 cores. A sleeper
// wakes at least every sleep_limit_ns to look for a barrier copied from a
// parent process.
constexpr unsigned spins_before_sleeping = 4096;
constexpr unsigned spins_between_yields = 64;
constexpr long sleep_limit_ns = 100L * 1000 * 1000;

// EINTR, EAGAIN and ENOMEM (an interrupted call, memory pressure) are retried
// before they count as a failure of the mechanism: a few times at once, then
// after sleeps that double from 100 us until they total 1 s (18 retries).
constexpr int immediate_retries = 4;
constexpr long first_backoff_ns = 100'000;
constexpr long backoff_budget_ns = 1'000'000'000;

// The sequence value at which a barrier that starts after `seen` was read
// has completed: idle at arrival, the next one to start will do; in flight, it
// may have started before the arrival, so the one after it.
std::uint32_t completion_needed(std::uint32_t seen) noexcept {
  std::uint32_t done = seen & ~(in_flight | has_sleeper);
  return done + one_barrier + ((seen & in_flight) != 0 ? one_barrier : 0);
}

// Wrap-around safe "the barrier count of seq is at or past target".
bool reached(std::uint32_t seq, std::uint32_t target) noexcept {
  return static_cast<std::int32_t>((seq & ~(in_flight | has_sleeper)) - target) >= 0;
}

bool transient(int error) noexcept { return error == EINTR || error == EAGAIN || error == ENOMEM; }

void sleep_for_nanoseconds(long ns) noexcept {
#if defined(_WIN32)
  std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
#else
  timespec left{static_cast<time_t>(ns / 1'000'000'000L), ns % 1'000'000'000L};
  while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
#endif
}

int issue_with_retries(const mechanism* m) noexcept {
  long slept = 0;
  long next = first_backoff_ns;
  for (int attempt = 0;; ++attempt) {
    const int error = m->issue();
    if (!transient(error)) return error;
    if (attempt < immediate_retries) {
      std::this_thread::yield();
    } else {
      if (slept >= backoff_budget_ns) return error;
      const long pause = std::min(next, backoff_budget_ns - slept);
      sleep_for_nanoseconds(pause);
      slept += pause;
      next *= 2;
    }
    counted.transient_retries.fetch_add(1, std::memory_order_relaxed);
  }
}

// Called with `in_flight` set (or adopted) by this thread, `leading` set:
// issues one barrier, replacing a failing mechanism, then completes and wakes
// the sleepers.
void lead() noexcept {
  const mechanism* m = ensure_selected();
  int error = issue_with_retries(m);
  while (error != 0) {
    m = replace_failed_mechanism(m, error);  // stops the process when none is left
    counted.strategy_switches.fetch_add(1, std::memory_order_relaxed);
    error = issue_with_retries(m);
  }
  counted.barriers_issued.fetch_add(1, std::memory_order_relaxed);
  completed.store(completed.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  // Complete: count the barrier, clear both flags, and wake the sleepers only
  // when one flagged itself on this barrier (its flag is read by this RMW). A
  // flag set too late for the barrier it meant stays on the next one, whose
  // leader then makes one wake-up that finds nobody: harmless.
  std::uint32_t old = sequence.load(std::memory_order_relaxed);
  while (!sequence.compare_exchange_weak(old, (old | in_flight | has_sleeper) + 1,
                                         std::memory_order_seq_cst, std::memory_order_relaxed)) {
  }
  leading = false;
  if ((old & has_sleeper) != 0) wake_all(sequence);
}

bool try_lead(std::uint32_t& seen) noexcept {
  if ((seen & in_flight) != 0) return false;
  // The mark first: whoever reads this in_flight with acquire then sees it.
  set_for_this_process(process_mark::slow_path);
  leading = true;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (sequence.compare_exchange_strong(seen, seen | in_flight, std::memory_order_seq_cst,
                                       std::memory_order_acquire)) {
    return true;
  }
  leading = false;
  return false;
}

// A barrier in flight (in `seen`, read with acquire) while the slow-path mark
// is not this process's: no leader of this process set it, so it was copied
// from the parent of this forked process and nobody will complete it. Claims
// it for this thread (one thread wins), which must then lead it.
bool try_adopt(std::uint32_t seen) noexcept {
  if ((seen & in_flight) == 0 || set_by_this_process(process_mark::slow_path)) return false;
  leading = true;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (claim_for_this_process(process_mark::slow_path)) return true;
  leading = false;
  return false;
}

// Leads a barrier now if none is in flight, or if the one in flight was
// copied from a parent process. Returns whether it did; updates `seen`.
bool lead_if_possible(std::uint32_t& seen) noexcept {
  if (!try_lead(seen) && !try_adopt(seen)) return false;
  lead();
  return true;
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
      continue;
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
    if (try_adopt(current)) {
      lead();
      continue;
    }
    // Flag this barrier as having a sleeper, then sleep while it is still in
    // flight; the leader's completing RMW reads the flag and wakes us.
    std::uint32_t flagged = sequence.fetch_or(has_sleeper, std::memory_order_acquire);
    if ((flagged & ~has_sleeper) == (current & ~has_sleeper)) {
      wait_while_equal_for(sequence, flagged | has_sleeper, sleep_limit_ns);
    }
  }
}

// Whether heavy barriers go through the sharing above. Stops when no strategy
// is sound; false for the fence strategy, where light() fences too and a
// local fence is the whole barrier.
bool shares_barriers(const mechanism* m) noexcept {
  if (m == nullptr) stop_without_strategy();
  return m->id != strategy::fence;
}

void finish_heavy() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  counted.heavy_calls.fetch_add(1, std::memory_order_relaxed);
}

// A call from a signal handler that interrupted this thread while it may hold
// `in_flight`: issues a barrier of its own, outside `sequence`, and returns
// true; false where the mechanism cannot be re-entered. It never fails over
// (replacing the mechanism is not async-signal-safe): it stops the process if
// the mechanism fails for good.
bool issue_nested(const mechanism* m) noexcept {
  if (!m->reentrant) return false;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const int error = issue_with_retries(m);
  if (error != 0) {
    stop(
        "heavy barrier failed: %s returned %s in a call from a signal handler that interrupted "
        "heavy() on the same thread, where no other strategy can be prepared. Remedy: %s",
        to_string(m->id), errno_name(error), m->remedy(error));
  }
  counted.barriers_issued.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace

void count_reregistration() noexcept {
  counted.reregistrations.fetch_add(1, std::memory_order_relaxed);
}

void heavy_slow() noexcept {
  const errno_preserved keep_errno;
  const mechanism* m = ensure_selected();
  if (!shares_barriers(m)) return finish_heavy();
  if (leading) {
    if (!issue_nested(m)) {
      stop(
          "heavy() was called from a signal handler that interrupted heavy() on the same thread, "
          "and %s cannot issue a barrier while that thread's own is in progress. Remedy: block "
          "the signal around heavy(), or do not call heavy() from the handler",
          to_string(m->id));
    }
    return finish_heavy();
  }
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
  const errno_preserved keep_errno;
  const mechanism* m = ensure_selected();
  if (!shares_barriers(m)) {
    finish_heavy();
    return true;
  }
  if (leading) {
    if (!issue_nested(m)) return false;
    finish_heavy();
    return true;
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint32_t arrival = sequence.fetch_add(0, std::memory_order_seq_cst);
  const std::uint32_t target = completion_needed(arrival);
  std::uint32_t seen = arrival;
  // Leads when nothing is in flight (once more after adopting a barrier
  // copied from a parent process); returns false when it would have to wait
  // for another thread's barrier.
  while (!reached(seen, target)) {
    if (!lead_if_possible(seen) && !reached(seen, target)) return false;
    seen = sequence.load(std::memory_order_acquire);
  }
  finish_heavy();
  return true;
}

heavy_ticket start_heavy() noexcept {
  using namespace detail;
  const errno_preserved keep_errno;
  if (!shares_barriers(ensure_selected())) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return heavy_ticket{0};
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Publish the arrival with an RMW (see the comment at the top). `completed`
  // read after it is at least the count at the arrival (the leader advanced it
  // before the RMW that the arrival read), so the target below is one or two
  // barriers past the arrival, or later: never one that began before it.
  const std::uint32_t arrival = sequence.fetch_add(0, std::memory_order_seq_cst);
  const std::uint64_t done = completed.load(std::memory_order_acquire);
  const heavy_ticket ticket{done + ((arrival & in_flight) != 0 ? 2 : 1)};
  std::uint32_t seen = arrival;
  if (!leading && try_lead(seen)) lead();
  return ticket;
}

bool heavy_completed(heavy_ticket ticket) noexcept {
  using namespace detail;
  const errno_preserved keep_errno;
  const mechanism* m = ensure_selected();
  if (!shares_barriers(m)) {
    finish_heavy();
    return true;
  }
  // At most two rounds lead: one adopted barrier copied from a parent
  // process, then this ticket's own.
  for (;;) {
    if (completed.load(std::memory_order_acquire) >= ticket.target) break;
    if (leading) {
      if (!issue_nested(m)) return false;  // the barrier this thread leads is not done
      break;                               // its own barrier began after the arrival
    }
    std::uint32_t seen = sequence.load(std::memory_order_acquire);
    if (!lead_if_possible(seen)) return false;  // another thread's barrier is in flight
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
