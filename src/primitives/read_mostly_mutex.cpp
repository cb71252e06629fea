// SPDX-License-Identifier: Apache-2.0 OR MIT
// read_mostly_mutex: the slow paths (protocol at the top of
// include/asymfence/read_mostly_mutex.hpp, argument in docs/read-mostly-mutex.md).
//
// Words of the mutex:
//   state_   odd while a writer's flag is up. Readers load it after light();
//            blocked readers sleep on it (futex).
//   waiting_ readers that saw the flag up and have not entered yet. A writer
//            raises its flag only when it is 0 (the handoff that keeps writers
//            from starving readers); readers wake it when it drops to 0.
//   counted_ shared holds taken without a slot.
//   writer_  the writers' own futex lock.
//
// Records. A thread's record (one cache line of slots) comes from the shared
// per-thread registry. A record acquired after a writer's scan began is
// harmless: its owner publishes the slot before light() [A], so a writer whose
// heavy() [B] comes later sees both the record and the slot, and a writer
// whose heavy() comes earlier has its flag seen by the reader.
#include <asymfence/read_mostly_mutex.hpp>
#include <new>
#include <thread>

#include "../waiter.hpp"
#include "read_mostly_mutex_internal.hpp"
#include "thread_registry.hpp"

#if defined(__unix__)
#include <time.h>
#endif

namespace asymfence {
namespace detail {

ASYMFENCE_READER_TLS read_mostly_reader* read_mostly_current = nullptr;

namespace {

std::atomic<void (*)()> writer_barrier_override{nullptr};

// B: pairs with A in read_mostly_mutex::enter_fast (the reader's light()).
void writer_barrier() noexcept {
  if (void (*f)() = writer_barrier_override.load(std::memory_order_relaxed)) {
    f();
  } else {
    heavy();
  }
}

// Spins briefly, then yields, then sleeps with doubling pauses (to 1 ms):
// readers do not wake writers, so a writer polls.
class backoff {
 public:
  void pause() noexcept {
    ++round_;
    if (round_ <= 64) {
      cpu_relax();
    } else if (round_ <= 128) {
      std::this_thread::yield();
    } else {
#if defined(__unix__)
      timespec t{0, sleep_ns_};
      nanosleep(&t, nullptr);
#else
      std::this_thread::yield();
#endif
      if (sleep_ns_ < 1'000'000) sleep_ns_ *= 2;
    }
  }

 private:
  int round_ = 0;
  long sleep_ns_ = 1'000;
};

}  // namespace

struct read_mostly_record : registry_node {
  read_mostly_reader reader;

  // The owner exits: its shared holds stay held, now on the counter. The
  // count goes up before the slot clears, so a writer that sees the slot
  // clear (acquire) also sees the count.
  static void on_owner_exit(read_mostly_record& r) noexcept;
  // The owner is gone (fork): nothing it held exists in this process.
  static void reset(read_mostly_record& r) noexcept {
    for (auto& slot : r.reader.slots) slot.store(nullptr, std::memory_order_relaxed);
    r.reader.free = (1u << read_mostly_slots) - 1;
  }
};

namespace {
thread_registry<read_mostly_record> records;
}  // namespace

struct read_mostly_access {
  static std::atomic<std::uint32_t>& counted(const read_mostly_mutex& m) noexcept {
    return const_cast<read_mostly_mutex&>(m).counted_;
  }
  static std::atomic<std::uint32_t>& state(read_mostly_mutex& m) noexcept { return m.state_; }
};

bool raise_flag_and_look_for_testing(read_mostly_mutex& m,
                                     const read_mostly_reader& reader) noexcept {
  read_mostly_access::state(m).fetch_add(1, std::memory_order_seq_cst);
  writer_barrier();  // B: pairs with A in read_mostly_mutex::enter_fast
  bool seen = false;
  for (auto& slot : reader.slots) seen = seen || slot.load(std::memory_order_acquire) == &m;
  return seen;
}

void lower_flag_for_testing(read_mostly_mutex& m) noexcept {
  read_mostly_access::state(m).fetch_add(1, std::memory_order_seq_cst);
}

void read_mostly_record::on_owner_exit(read_mostly_record& r) noexcept {
  for (auto& slot : r.reader.slots) {
    if (const read_mostly_mutex* m = slot.load(std::memory_order_relaxed)) {
      read_mostly_access::counted(*m).fetch_add(1, std::memory_order_seq_cst);
      slot.store(nullptr, std::memory_order_release);
    }
  }
  r.reader.free = (1u << read_mostly_slots) - 1;
  if (read_mostly_current == &r.reader) read_mostly_current = nullptr;
}

void set_read_mostly_writer_barrier_for_testing(void (*barrier)()) noexcept {
  writer_barrier_override.store(barrier, std::memory_order_relaxed);
}

std::size_t read_mostly_records_for_testing() noexcept { return records.size(); }

}  // namespace detail

using detail::backoff;
using detail::read_mostly_current;
using detail::read_mostly_reader;

namespace {

// The calling thread's record, acquired on first use; null when none can be
// allocated (the caller then takes the counted path).
read_mostly_reader* current_reader() noexcept {
  if (read_mostly_current == nullptr) {
    try {
      read_mostly_current = &detail::records.acquire()->reader;
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }
  return read_mostly_current;
}

}  // namespace

// ---- readers ----

// One attempt to enter without a free slot: count, then check the flag, both
// seq_cst (the writer raises its flag with a seq_cst read-modify-write and
// reads the count after its barrier).
static bool enter_counted(std::atomic<std::uint32_t>& counted,
                          const std::atomic<std::uint32_t>& state) noexcept {
  counted.fetch_add(1, std::memory_order_seq_cst);
  if ((state.load(std::memory_order_seq_cst) & 1u) == 0) return true;
  counted.fetch_sub(1, std::memory_order_release);
  return false;
}

bool read_mostly_mutex::try_lock_shared_slow() noexcept {
  if (current_reader() != nullptr) {
    const int r = enter_fast();
    if (r == fast_entered) return true;
    if (r == fast_writer) return false;
  }
  return enter_counted(counted_, state_);
}

void read_mostly_mutex::lock_shared_slow() noexcept {
  bool registered = false;  // counted in waiting_
  for (;;) {
    // seq_cst: after registering, this is the load that pairs with unlock().
    const std::uint32_t s = state_.load(std::memory_order_seq_cst);
    if ((s & 1u) == 0) {
      if (try_lock_shared_slow()) {
        // Entered: a writer waiting for the handoff may raise its flag once
        // every blocked reader has entered.
        if (registered && waiting_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          detail::wake_all(waiting_);
        }
        return;
      }
      continue;  // a writer raised its flag meanwhile
    }
    if (!registered) {
      // seq_cst: pairs with unlock()'s flag lowering and load of waiting_, so
      // either the writer wakes us or the reload below sees the flag down.
      waiting_.fetch_add(1, std::memory_order_seq_cst);
      registered = true;
      continue;
    }
    // A short spin first: most writers are done within a barrier or two.
    bool changed = false;
    for (int i = 0; i < 128 && !changed; ++i) {
      detail::cpu_relax();
      changed = state_.load(std::memory_order_relaxed) != s;
    }
    if (!changed) detail::wait_while_equal(state_, s);
  }
}

void read_mostly_mutex::unlock_shared_counted() noexcept {
  counted_.fetch_sub(1, std::memory_order_release);
}

// ---- writers ----

static void lock_writers(std::atomic<std::uint32_t>& w) noexcept {
  std::uint32_t c = 0;
  if (w.compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
  for (int i = 0; i < 64; ++i) {
    detail::cpu_relax();
    c = 0;
    if (w.load(std::memory_order_relaxed) == 0 &&
        w.compare_exchange_strong(c, 1, std::memory_order_acquire)) {
      return;
    }
  }
  while (w.exchange(2, std::memory_order_acquire) != 0) detail::wait_while_equal(w, 2);
}

static void unlock_writers(std::atomic<std::uint32_t>& w) noexcept {
  if (w.exchange(0, std::memory_order_release) == 2) detail::wake_all(w);
}

// Waits until no record shows a shared hold of m and the counted holds are 0.
static void wait_for_readers(const read_mostly_mutex* m,
                             const std::atomic<std::uint32_t>& counted) noexcept {
  detail::records.for_each_in_use([m](detail::read_mostly_record& r) {
    for (auto& slot : r.reader.slots) {
      backoff b;
      // acquire: pairs with unlock_shared's release, so the reader's section
      // happens before ours.
      while (slot.load(std::memory_order_acquire) == m) b.pause();
    }
  });
  // seq_cst: the counted reader's increment and flag check are seq_cst, so
  // this is plain store buffering between seq_cst accesses.
  backoff b;
  while (counted.load(std::memory_order_seq_cst) != 0) b.pause();
}

// Whether any reader is visible now (try_lock's single look).
static bool readers_visible(const read_mostly_mutex* m,
                            const std::atomic<std::uint32_t>& counted) noexcept {
  bool seen = counted.load(std::memory_order_seq_cst) != 0;
  if (!seen) {
    detail::records.for_each_in_use([&](detail::read_mostly_record& r) {
      for (auto& slot : r.reader.slots) seen = seen || slot.load(std::memory_order_acquire) == m;
    });
  }
  return seen;
}

void read_mostly_mutex::lock() noexcept {
  lock_writers(writer_);
  // Handoff: readers that the previous writer blocked enter first. The flag
  // is down, so they do not wait long, and no new reader registers meanwhile.
  for (std::uint32_t w; (w = waiting_.load(std::memory_order_acquire)) != 0;) {
    detail::wait_while_equal(waiting_, w);
  }
  state_.fetch_add(1, std::memory_order_seq_cst);  // raise the flag
  detail::writer_barrier();                        // B: pairs with A in enter_fast
  wait_for_readers(this, counted_);
}

bool read_mostly_mutex::try_lock() noexcept {
  std::uint32_t c = 0;
  if (!writer_.compare_exchange_strong(c, 1, std::memory_order_acquire)) return false;
  if (waiting_.load(std::memory_order_acquire) != 0) {
    unlock_writers(writer_);
    return false;
  }
  state_.fetch_add(1, std::memory_order_seq_cst);
  detail::writer_barrier();  // B: pairs with A in enter_fast
  if (!readers_visible(this, counted_)) return true;
  unlock();  // readers that saw the flag meanwhile are woken
  return false;
}

void read_mostly_mutex::unlock() noexcept {
  state_.fetch_add(1, std::memory_order_seq_cst);  // lower the flag (release for our section)
  if (waiting_.load(std::memory_order_seq_cst) != 0) detail::wake_all(state_);
  unlock_writers(writer_);
}

}  // namespace asymfence
