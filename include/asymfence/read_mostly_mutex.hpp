// SPDX-License-Identifier: Apache-2.0 OR MIT
// read_mostly_mutex: a shared mutex whose readers take no atomic
// read-modify-write and write no line that another thread writes.
//
// Protocol (the argument is in docs/read-mostly-mutex.md):
//   reader: slot = &m (own record); light() [A]; load m.state_; flag up ->
//           slot = null, wait for the writer, retry
//   writer: exclude writers; wait for the readers a previous writer blocked;
//           raise the flag (state_ odd); heavy() [B]; wait until no record's
//           slot holds &m and the counted readers are 0
// A and B make this store buffering: either the reader sees the flag and
// retracts, or the writer sees the reader's slot and waits for it.
//
// Slots. Each thread's record has `read_mostly_slots` slots on a cache line
// of its own. A thread holding more read_mostly_mutex locks shared at once,
// or one that cannot get a record (out of memory), takes the counted path
// for the extra ones: a read-modify-write on the mutex, then the flag check.
//
// Fairness. Once a writer has raised its flag, new readers wait: a stream of
// readers cannot starve a writer. Readers that a writer blocked enter before
// the next writer raises its flag (the next writer waits for them to enter):
// writers cannot starve readers either. Writers among themselves are not
// ordered (the futex decides).
//
// Differences from std::shared_mutex: unlock_shared() may run on a thread
// other than the one that locked (the hold is then released through the
// counter), and a thread that exits while holding shared locks leaves them
// held (handed to the counter) rather than causing undefined behaviour.
// Writers pay a process-wide heavy() barrier: choose this lock only where
// writes are rare (see docs/read-mostly-mutex.md for the crossover).
#ifndef ASYMFENCE_READ_MOSTLY_MUTEX_HPP
#define ASYMFENCE_READ_MOSTLY_MUTEX_HPP

#include <asymfence/export.h>

#include <asymfence/asymfence.hpp>
#include <atomic>
#include <cstdint>

namespace asymfence {

// Slots per thread record: seven pointers and the free mask fill one line.
inline constexpr int read_mostly_slots = 7;

class read_mostly_mutex;

namespace detail {

// The part of a thread's record that its read side touches. Only the owner
// writes it; writers read the slots.
struct alignas(64) read_mostly_reader {
  std::atomic<const read_mostly_mutex*> slots[read_mostly_slots] = {};
  std::uint32_t free = (1u << read_mostly_slots) - 1;  // bit i: slot i is free (owner only)
};
static_assert(sizeof(read_mostly_reader) == 64, "the slots must fill exactly one cache line");

extern ASYMFENCE_API ASYMFENCE_READER_TLS read_mostly_reader* read_mostly_current;

#if ASYMFENCE_TSAN
// TSan does not model the fences that light()/heavy() become.
inline constexpr std::memory_order read_mostly_publish_order = std::memory_order_seq_cst;
inline constexpr std::memory_order read_mostly_check_order = std::memory_order_seq_cst;
#else
inline constexpr std::memory_order read_mostly_publish_order = std::memory_order_relaxed;
inline constexpr std::memory_order read_mostly_check_order = std::memory_order_acquire;
#endif

struct read_mostly_access;

inline bool read_mostly_likely(bool b) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_expect(b, 1);
#else
  return b;
#endif
}

inline int read_mostly_lowest_bit(std::uint32_t bits) noexcept {  // bits != 0
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctz(bits);
#else
  int i = 0;
  while ((bits & 1u) == 0) bits >>= 1, ++i;
  return i;
#endif
}
}  // namespace detail

class read_mostly_mutex {
 public:
  constexpr read_mostly_mutex() noexcept = default;
  read_mostly_mutex(const read_mostly_mutex&) = delete;
  read_mostly_mutex& operator=(const read_mostly_mutex&) = delete;
  // Destroying a mutex that is held, or that a thread waits on, is undefined
  // behaviour (as for std::shared_mutex).
  ~read_mostly_mutex() = default;

  // Exclusive ownership. Costs a heavy() barrier and a scan of every thread's
  // record; waits (spinning briefly, then sleeping) for readers to leave.
  ASYMFENCE_API void lock() noexcept;
  // Fails when another writer holds the lock, readers blocked by the previous
  // writer have not entered yet, or any reader is visible after the barrier.
  // Costs a heavy() barrier when it gets that far.
  ASYMFENCE_API bool try_lock() noexcept;
  ASYMFENCE_API void unlock() noexcept;

  // Shared ownership; the common case is three stores to the calling thread's
  // own record, light(), and one load of this mutex.
  void lock_shared() noexcept {
    if (detail::read_mostly_likely(enter_fast() == fast_entered)) return;
    lock_shared_slow();
  }
  // Fails only when a writer holds or is acquiring the lock; never blocks.
  bool try_lock_shared() noexcept {
    const int r = enter_fast();
    if (detail::read_mostly_likely(r == fast_entered)) return true;
    if (r == fast_writer) return false;
    return try_lock_shared_slow();
  }
  void unlock_shared() noexcept {
    if (detail::read_mostly_reader* r = detail::read_mostly_current) {
      for (int i = 0; i < read_mostly_slots; ++i) {
        if (r->slots[i].load(std::memory_order_relaxed) == this) {
          // Pairs with the writer's acquire load while it waits for the slot.
          r->slots[i].store(nullptr, std::memory_order_release);
          r->free |= 1u << i;
          return;
        }
      }
    }
    unlock_shared_counted();
  }

 private:
  friend struct detail::read_mostly_access;
  enum { fast_entered, fast_writer, fast_no_slot };

  int enter_fast() noexcept {
    detail::read_mostly_reader* r = detail::read_mostly_current;
    if (!detail::read_mostly_likely(r != nullptr)) return fast_no_slot;
    const std::uint32_t free = r->free;
    if (!detail::read_mostly_likely(free != 0)) return fast_no_slot;
    const int i = detail::read_mostly_lowest_bit(free);
    r->free = free & (free - 1);
    r->slots[i].store(this, detail::read_mostly_publish_order);
    light();  // A: pairs with B in read_mostly_mutex::lock (src/primitives/read_mostly_mutex.cpp)
    if (detail::read_mostly_likely((state_.load(detail::read_mostly_check_order) & 1u) == 0)) {
      return fast_entered;
    }
    r->slots[i].store(nullptr, std::memory_order_release);  // retract: the writer may wait on it
    r->free = free;
    return fast_writer;
  }

  ASYMFENCE_API void lock_shared_slow() noexcept;
  ASYMFENCE_API bool try_lock_shared_slow() noexcept;
  ASYMFENCE_API void unlock_shared_counted() noexcept;

  // Odd while a writer's flag is up; +1 on raising and on lowering, so that a
  // sleeping reader never mistakes a later writer for the one it waited on.
  std::atomic<std::uint32_t> state_{0};
  // Readers that saw the flag up and have not entered since (the handoff).
  std::atomic<std::uint32_t> waiting_{0};
  // Shared holds taken on the counted path.
  std::atomic<std::uint32_t> counted_{0};
  // Writers' exclusion: 0 free, 1 held, 2 held with sleepers.
  std::atomic<std::uint32_t> writer_{0};
};

}  // namespace asymfence

#endif
