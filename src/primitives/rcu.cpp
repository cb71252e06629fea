// SPDX-License-Identifier: Apache-2.0 OR MIT
// RCU: grace periods and reclamation (the read side is inline in rcu.hpp).
//
// Grace period. A reader's outermost lock() stores its counter + 1 (odd) and
// runs light() (A) before it loads any protected pointer; the updater unlinks,
// and the grace period runs heavy() (B) before it reads the counters. That is
// store buffering: reader "W counter; A; R pointer" against updater
// "W pointer; B; R counter". B forbids the outcome where the reader loads the
// old pointer and the scan reads the counter from before the section: one of
// the two sees the other's store. So every section that may hold the old
// pointer shows an odd counter to the scan, and the grace period waits until
// that counter changes. The wait ends by reading, with acquire, the value the
// reader's unlock() stored with release: that is message passing (or, seen
// from the object, load buffering: the reader's "R object; W counter" against
// the updater's "R counter; W object (free)"), so every read of the section
// happens before what the updater does next. The same acquire, on an even
// counter read by the scan, orders the reader's earlier sections. That
// release/acquire pair is why one heavy() per grace period suffices where
// designs whose unlock is a plain store need a second barrier after the scan.
//
// Sharing. `gp_seq` counts grace periods in units of 2; bit 0 is set while
// one is in flight. A caller needs a grace period that starts after its
// arrival, which it publishes with a read-modify-write on gp_seq; the grace
// period starts with another RMW on the same word, so it reads the arrival (or
// a later RMW of the same release sequence) and the caller's unlink happens
// before B. Arrivals while one is in flight need the next one. The steps of a
// grace period are run by whichever caller holds `driver` (a try-lock, never
// waited on). Among blocked rcu_synchronize callers one, the poller, polls
// with backoff (spin, then sleep); the others sleep on a futex word that each
// completed grace period bumps. The polling API advances the grace period
// one non-blocking step per call.
//
// Reclamation. retire pushes onto a lock-free stack; a helper thread, started
// by the first retire of the process (never at load time, again in a child of
// fork), takes the whole stack, waits for one grace period and runs the
// deleters, outside every read section and internal lock, then naps briefly
// so that the next grace period serves a larger batch. rcu_barrier asks the
// helper for a pass that starts after the request and sleeps until it is
// served.
#include <asymfence/rcu.hpp>
#include <chrono>
#include <cstdint>
#include <new>
#include <system_error>
#include <thread>

#include "../errors.hpp"
#include "../waiter.hpp"
#include "rcu_testing.hpp"
#include "thread_registry.hpp"

#if defined(__unix__)
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/prctl.h>
#endif

namespace asymfence {
namespace detail {

ASYMFENCE_READER_TLS rcu_reader* rcu_this_reader = nullptr;

namespace {

#if ASYMFENCE_TSAN
constexpr std::memory_order scan_order = std::memory_order_seq_cst;
#else
constexpr std::memory_order scan_order = std::memory_order_acquire;
#endif

struct rcu_record : registry_node {
  rcu_reader reader;  // its own cache line (alignas(64))
  // The odd counter value the current grace period waits to see change; 0:
  // none. Written only by the thread holding `driver`.
  std::uint64_t waiting_for = 0;

  static void on_owner_exit(rcu_record& r) noexcept {
    if (r.reader.nesting != 0) {
      stop(
          "a thread ended inside an RCU read section (%u lock() calls without unlock()); grace "
          "periods would wait for it forever",
          r.reader.nesting);
    }
    rcu_this_reader = nullptr;
  }
  static void reset(rcu_record& r) noexcept {
    // The holder died in the parent of a fork: end its section, if any.
    r.reader.nesting = 0;
    const std::uint64_t c = r.reader.counter.load(std::memory_order_relaxed);
    if ((c & 1) != 0) r.reader.counter.store(c + 1, std::memory_order_release);
  }
};

thread_registry<rcu_record> readers;

// ---- Grace periods --------------------------------------------------------

constexpr std::uint64_t in_flight = 1;
constexpr std::uint64_t one_period = 2;

alignas(64) std::atomic<std::uint64_t> gp_seq{0};
alignas(64) std::atomic<bool> driver{false};
// The one blocked caller that polls the readers; the others sleep on
// gp_done_word, which every completed grace period bumps.
std::atomic<bool> poller{false};
alignas(64) std::atomic<std::uint32_t> gp_done_word{0};
std::atomic<int> gp_sleepers{0};  // callers in (or about to enter) the sleep

// State of the grace period in flight; only the holder of `driver` touches it.
enum class phase { idle, need_barrier, barrier_pending, waiting };
phase gp_phase = phase::idle;
heavy_ticket gp_heavy{};

std::atomic<void (*)()> updater_barrier_override{nullptr};

std::uint64_t completion_needed(std::uint64_t seen) noexcept {
  return (seen & ~in_flight) + one_period + ((seen & in_flight) != 0 ? one_period : 0);
}
bool reached(std::uint64_t seq, std::uint64_t target) noexcept {
  return (seq & ~in_flight) >= target;
}

// Sleeps about `nanoseconds`. The thread's timer slack (50 us by default on
// Linux) would stretch short sleeps, so it is lowered for the sleep.
void sleep_briefly(long nanoseconds) noexcept {
#if defined(__linux__)
  const int old_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  const bool lowered = old_slack > 1000 && prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0) == 0;
  const timespec t{0, nanoseconds};
  nanosleep(&t, nullptr);
  if (lowered) prctl(PR_SET_TIMERSLACK, old_slack, 0, 0, 0);
#else
  std::this_thread::sleep_for(std::chrono::nanoseconds(nanoseconds));
#endif
}

bool try_drive() noexcept {
  return !driver.load(std::memory_order_relaxed) &&
         !driver.exchange(true, std::memory_order_acquire);
}
void stop_driving() noexcept { driver.store(false, std::memory_order_release); }

// The records the grace period in flight waits for: the snapshot keeps them
// in a small array so that polling touches only them (records are never
// freed, see thread_registry.hpp); with more, polling scans the registry.
constexpr int max_listed = 32;
rcu_record* listed[max_listed];
int listed_count = 0;
bool listed_overflow = false;

// Snapshot: the counters that show a section in progress after B.
void snapshot_readers() noexcept {
  listed_count = 0;
  listed_overflow = false;
  readers.for_each_in_use([](rcu_record& r) {
    const std::uint64_t c = r.reader.counter.load(scan_order);
    r.waiting_for = (c & 1) != 0 ? c : 0;
    if (r.waiting_for == 0) return;
    if (listed_count < max_listed) {
      listed[listed_count++] = &r;
    } else {
      listed_overflow = true;
    }
  });
}

// True once `r`'s section seen by the snapshot has ended. A record released
// and acquired again meanwhile shows a changed counter too.
bool section_ended(rcu_record& r) noexcept {
  if (r.waiting_for == 0) return true;
  // Acquire: pairs with the release store of unlock().
  if (r.reader.counter.load(scan_order) == r.waiting_for) return false;
  r.waiting_for = 0;
  return true;
}

// True when every section seen by the snapshot has ended.
bool readers_done() noexcept {
  bool pending = false;
  if (listed_overflow) {
    readers.for_each_in_use([&](rcu_record& r) { pending = !section_ended(r) || pending; });
    return !pending;
  }
  for (int i = 0; i < listed_count; ++i) {
    if (!section_ended(*listed[i])) {
      listed[0] = listed[i];  // poll the one still inside first next time
      listed_count -= i;
      for (int k = 1; k < listed_count; ++k) listed[k] = listed[i + k];
      return false;
    }
  }
  listed_count = 0;
  return true;
}

// Advances the grace period as far as it can without waiting. The caller
// holds `driver` and needs gp_seq to reach `target`.
void step(std::uint64_t target) noexcept {
  switch (gp_phase) {
    case phase::idle:
      if (reached(gp_seq.load(std::memory_order_relaxed), target)) return;
      // Acquires every arrival before it (see the top).
      gp_seq.fetch_add(in_flight, std::memory_order_acq_rel);
      [[fallthrough]];
    case phase::need_barrier:
      if (void (*barrier)() = updater_barrier_override.load(std::memory_order_relaxed)) {
        barrier();  // tests only: the control replaces B
        gp_phase = phase::barrier_pending;
        snapshot_readers();
        gp_phase = phase::waiting;
        break;
      }
      gp_heavy = start_heavy();  // B: pairs with A in rcu_domain::lock()
      gp_phase = phase::barrier_pending;
      [[fallthrough]];
    case phase::barrier_pending:
      if (!heavy_completed(gp_heavy)) return;
      snapshot_readers();
      gp_phase = phase::waiting;
      break;
    case phase::waiting:
      break;
  }
  if (!readers_done()) return;
  gp_phase = phase::idle;
  // Release: waiters that read the new count have the acquires above.
  gp_seq.fetch_add(in_flight, std::memory_order_seq_cst);
  // Wake callers asleep in wait_for_target (store buffering with their
  // gp_sleepers store and gp_seq load, seq_cst on both sides).
  gp_done_word.fetch_add(1, std::memory_order_seq_cst);
  if (gp_sleepers.load(std::memory_order_seq_cst) != 0) wake_all(gp_done_word);
}

// Polls with backoff: spins briefly, then sleeps for growing intervals (from
// a microsecond up to a millisecond), so a long read section costs no CPU.
// Sleeping rather than yielding lets this CPU go idle, so the scheduler can
// move a reader that was preempted inside its section onto it.
void back_off(unsigned round) noexcept {
  constexpr unsigned spins = 64;
  if (round < spins) {
    cpu_relax();
    return;
  }
  const unsigned shift = round - spins < 10 ? round - spins : 10;
  sleep_briefly(1000L << shift);
}

// Blocks until gp_seq reaches `target`. One caller at a time polls the
// readers (readers never wake anyone: their unlock stays private); the
// others sleep until a grace period completes.
void wait_for_target(std::uint64_t target) noexcept {
  for (;;) {
    if (reached(gp_seq.load(std::memory_order_acquire), target)) return;
    if (!poller.load(std::memory_order_relaxed) &&
        !poller.exchange(true, std::memory_order_acquire)) {
      for (unsigned round = 0;; ++round) {
        if (try_drive()) {
          step(target);
          stop_driving();
        }
        if (reached(gp_seq.load(std::memory_order_acquire), target)) break;
        back_off(round);
      }
      // Hand over: a sleeper that saw this poller is woken to take over
      // (store buffering with its poller check, seq_cst on both sides).
      poller.store(false, std::memory_order_seq_cst);
      if (gp_sleepers.load(std::memory_order_seq_cst) != 0) {
        gp_done_word.fetch_add(1, std::memory_order_seq_cst);
        wake_all(gp_done_word);
      }
      return;
    }
    const std::uint32_t word = gp_done_word.load(std::memory_order_seq_cst);
    gp_sleepers.fetch_add(1, std::memory_order_seq_cst);
    if (!reached(gp_seq.load(std::memory_order_seq_cst), target) &&
        poller.load(std::memory_order_seq_cst)) {
      wait_while_equal(gp_done_word, word);
    }
    gp_sleepers.fetch_sub(1, std::memory_order_relaxed);
  }
}

void check_outside_section(const char* what) noexcept {
  const rcu_reader* r = rcu_this_reader;
  if (r != nullptr && r->nesting != 0) {
    stop("%s called inside an RCU read section: it would wait for that section forever", what);
  }
}

std::uint64_t arrive() noexcept {
  // Publishes the arrival (see the top): the RMW heads a release sequence
  // that the grace period's start reads.
  return gp_seq.fetch_add(0, std::memory_order_acq_rel);
}

// ---- Reclamation ----------------------------------------------------------

alignas(64) std::atomic<rcu_node*> incoming{nullptr};
// What the helper is doing: retires wake it only from `sleeping`, barrier
// requests from `sleeping` and `napping`.
enum helper_state : int { running, sleeping, napping };
alignas(64) std::atomic<int> helper_state{running};
std::atomic<std::uint32_t> wake_word{0};
alignas(64) std::atomic<std::uint64_t> barrier_requested{0};
alignas(64) std::atomic<std::uint64_t> barrier_served{0};
std::atomic<std::uint32_t> served_word{0};  // bumped with barrier_served, for sleepers
// The process whose helper thread runs; 0: none; -1: being started.
std::atomic<int> helper_process{0};
std::atomic<std::uint64_t> objects_reclaimed{0};
// After a batch the helper naps this long (unless a barrier asks) so that
// the next grace period serves more objects.
constexpr long nap_nanoseconds = 1'000'000;

int this_process() noexcept {
#if defined(__unix__)
  return static_cast<int>(getpid());
#else
  return 1;
#endif
}

// Wakes the helper if it is in a state that `event` should end (retire:
// sleeping; barrier: sleeping or napping). Store buffering with the helper's
// state store and recheck, seq_cst on both sides.
void wake_helper(bool barrier) noexcept {
  const int state = helper_state.load(std::memory_order_seq_cst);
  if (state == sleeping || (barrier && state == napping)) {
    wake_word.fetch_add(1, std::memory_order_seq_cst);
    wake_all(wake_word);
  }
}

void run_batch(rcu_node* batch) noexcept {
  // The stack is newest first; run in retire order.
  rcu_node* ordered = nullptr;
  while (batch != nullptr) {
    rcu_node* next = batch->next;
    batch->next = ordered;
    ordered = batch;
    batch = next;
  }
  std::uint64_t n = 0;
  while (ordered != nullptr) {
    rcu_node* next = ordered->next;
    ordered->reclaim(ordered);
    ordered = next;
    ++n;
  }
  objects_reclaimed.fetch_add(n, std::memory_order_relaxed);
}

// The helper's idle sleep: until woken on Linux; elsewhere the waiter only
// yields, so sleep in bounded steps rather than spin.
void idle_wait(std::atomic<std::uint32_t>& word, std::uint32_t seen) noexcept {
#if defined(__linux__)
  wait_while_equal(word, seen);
#else
  wait_while_equal_for(word, seen, 10'000'000);
#endif
}

void helper_main() noexcept {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "asymfence-rcu");
#endif
  for (;;) {
    const std::uint64_t request = barrier_requested.load(std::memory_order_acquire);
    rcu_node* batch = incoming.exchange(nullptr, std::memory_order_acquire);
    if (batch != nullptr) {
      wait_for_target(completion_needed(arrive()));
      run_batch(batch);
    }
    if (request != barrier_served.load(std::memory_order_relaxed)) {
      barrier_served.store(request, std::memory_order_release);
      served_word.fetch_add(1, std::memory_order_release);
      wake_all(served_word);
      continue;
    }
    // Nap after a batch, sleep when there was none; a retire ends only the
    // sleep, a barrier request both.
    const int state = batch != nullptr ? napping : sleeping;
    const std::uint32_t word = wake_word.load(std::memory_order_seq_cst);
    helper_state.store(state, std::memory_order_seq_cst);
    const bool retired = incoming.load(std::memory_order_seq_cst) != nullptr;
    if (barrier_requested.load(std::memory_order_seq_cst) == request &&
        (state == napping || !retired)) {
      if (state == napping) {
        wait_while_equal_for(wake_word, word, nap_nanoseconds);
      } else {
        idle_wait(wake_word, word);
      }
    }
    helper_state.store(running, std::memory_order_relaxed);
  }
}

// Starts the helper thread of this process if it has none. Never waits for
// another thread that is starting it.
void start_helper(int seen) noexcept;

// The fast check reads no process id: fork()'s child handler clears
// helper_process. A child made without the handlers is caught by
// rcu_barrier, which compares the process id.
void ensure_helper() noexcept {
  int seen = helper_process.load(std::memory_order_acquire);
  if (seen != 0) return;
  start_helper(seen);
}

void start_helper(int seen) noexcept {
  const int self = this_process();
  if (seen == self || seen == -1) return;
  if (!helper_process.compare_exchange_strong(seen, -1, std::memory_order_acq_rel)) return;
  try {
    std::thread(helper_main).detach();
  } catch (const std::system_error& e) {
    stop("cannot start the RCU reclamation thread: %s", e.what());
  }
  helper_process.store(self, std::memory_order_release);
}

#if defined(__unix__)
// A child of fork has one thread: no helper, and no other thread driving a
// grace period. A grace period the parent had in flight is redone.
void after_fork_in_child() noexcept {
  driver.store(false, std::memory_order_relaxed);
  // gp_seq says whether one is in flight (the parent may have forked between
  // a step's update of gp_seq and of gp_phase).
  gp_phase =
      (gp_seq.load(std::memory_order_relaxed) & in_flight) != 0 ? phase::need_barrier : phase::idle;
  poller.store(false, std::memory_order_relaxed);
  gp_sleepers.store(0, std::memory_order_relaxed);
  helper_process.store(0, std::memory_order_relaxed);
  helper_state.store(running, std::memory_order_relaxed);
  barrier_served.store(barrier_requested.load(std::memory_order_relaxed),
                       std::memory_order_relaxed);
}
pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;
void install_fork_handler() noexcept {
  pthread_once(&fork_handler_once, [] { pthread_atfork(nullptr, nullptr, after_fork_in_child); });
}
#else
void install_fork_handler() noexcept {}
#endif

}  // namespace

rcu_reader* rcu_register_reader() noexcept {
  install_fork_handler();
  rcu_record* r = nullptr;
  try {
    r = readers.acquire();
  } catch (const std::bad_alloc&) {
    stop("out of memory for the RCU record of a new thread");
  }
  rcu_this_reader = &r->reader;
  return rcu_this_reader;
}

void rcu_schedule(rcu_node* node) noexcept {
  install_fork_handler();
  ensure_helper();
  rcu_node* head = incoming.load(std::memory_order_relaxed);
  do {
    node->next = head;
  } while (!incoming.compare_exchange_weak(head, node, std::memory_order_seq_cst,
                                           std::memory_order_relaxed));
  wake_helper(false);
}

void rcu_set_updater_barrier_for_testing(void (*barrier)()) noexcept {
  updater_barrier_override.store(barrier, std::memory_order_relaxed);
}
std::uint64_t rcu_grace_periods_for_testing() noexcept {
  return gp_seq.load(std::memory_order_acquire) / one_period;
}
std::uint64_t rcu_objects_reclaimed_for_testing() noexcept {
  return objects_reclaimed.load(std::memory_order_relaxed);
}

}  // namespace detail

rcu_domain rcu_domain::default_domain_;

void rcu_synchronize(rcu_domain&) noexcept {
  using namespace detail;
  check_outside_section("rcu_synchronize");
  install_fork_handler();
  wait_for_target(completion_needed(arrive()));
}

void rcu_barrier(rcu_domain&) noexcept {
  using namespace detail;
  check_outside_section("rcu_barrier");
  // Nothing retired in this process and nothing left from before a fork.
  const int helper = helper_process.load(std::memory_order_acquire);
  if (helper != this_process() && helper != -1 &&
      incoming.load(std::memory_order_acquire) == nullptr) {
    return;
  }
  if (helper != this_process() && helper != -1) start_helper(helper);
  const std::uint64_t request = barrier_requested.fetch_add(1, std::memory_order_seq_cst) + 1;
  wake_helper(true);
  for (;;) {
    const std::uint32_t word = served_word.load(std::memory_order_acquire);
    if (barrier_served.load(std::memory_order_acquire) >= request) return;
    wait_while_equal(served_word, word);
  }
}

rcu_ticket start_rcu_grace_period(rcu_domain&) noexcept {
  using namespace detail;
  install_fork_handler();
  const std::uint64_t arrival = arrive();
  const rcu_ticket ticket{completion_needed(arrival)};
  if ((arrival & in_flight) == 0 && try_drive()) {
    step(ticket.target);
    stop_driving();
  }
  return ticket;
}

bool rcu_grace_period_elapsed(rcu_ticket ticket, rcu_domain&) noexcept {
  using namespace detail;
  if (reached(gp_seq.load(std::memory_order_acquire), ticket.target)) return true;
  if (try_drive()) {
    step(ticket.target);
    stop_driving();
  }
  return reached(gp_seq.load(std::memory_order_acquire), ticket.target);
}

}  // namespace asymfence
