// SPDX-License-Identifier: Apache-2.0 OR MIT
// asymfence: process-wide (asymmetric) memory barriers.
//
// A program calls light() on its hot path and heavy() on its cold path. The
// heavy barrier forces every running thread of the process through a memory
// barrier, so the light one can be free.
//
// Memory ordering: all light, heavy and ordinary seq_cst fences lie in one
// total order. If thread A issues barrier X and thread B issues barrier Y, X
// before Y in that order, then everything A did before X is visible to B after
// Y, provided at least one of X and Y is heavy. Two light barriers, or a light
// one and an ordinary fence, promise nothing between themselves. In litmus
// terms, with x == y == 0 initially:
//
//     thread 1: x = 1; light(); r1 = y;      thread 2: y = 1; heavy(); r2 = x;
//
// never ends with r1 == 0 && r2 == 0 (store buffering); the same holds with
// heavy() on both sides. With light() on both sides it may.

// Model-checking mode: with ASYMFENCE_RELACY, <asymfence/relacy.hpp> stands
// in for this header and light()/heavy() become relacy fences.
#if defined(ASYMFENCE_RELACY) && ASYMFENCE_RELACY
#include <asymfence/relacy.hpp>
#endif

#ifndef ASYMFENCE_ASYMFENCE_HPP
#define ASYMFENCE_ASYMFENCE_HPP

#include <asymfence/export.h>

#include <atomic>
#include <cstdint>

namespace asymfence {

// One value per mechanism that heavy() can use. The values are stable: new
// strategies are added at the end.
enum class strategy : int {
  none = 0,                      // no sound mechanism: heavy() stops the process
  membarrier_private_expedited,  // Linux membarrier(2), IPIs to this process's CPUs
  mprotect,                      // TLB-shootdown IPIs from mprotect, x86 Linux only
  membarrier_global,             // Linux membarrier(2) GLOBAL: an RCU grace period
  flush_process_write_buffers,   // Windows FlushProcessWriteBuffers (a stub under Wine)
  fence,                         // seq_cst fence on both sides (checked light or no OS mechanism)
  virtual_protect,               // TLB-shootdown IPIs from VirtualProtect, x86 Windows and Wine
};

inline constexpr int strategy_count = 7;

// The strategy's name, as accepted by ASYMFENCE_STRATEGY; "unknown" for a
// value outside the enumeration.
ASYMFENCE_API const char* to_string(strategy s) noexcept;

// The strategy heavy() uses now, selecting it first if that has not happened.
// strategy::none when no sound one exists (see init()). It changes after
// selection only if the mechanism in use starts failing and heavy() moves to
// the next sound one.
ASYMFENCE_API strategy active_strategy() noexcept;

// What init() found.
struct init_result {
  // The strategy in force: the one selection chose or, after its mechanism
  // failed at run time, the one heavy() moved to (selection() keeps what
  // selection chose). strategy::none on failure.
  strategy selected = strategy::none;
  int error = 0;             // errno-style cause on failure, 0 on success
  const char* message = "";  // why no sound strategy exists; "" on success
  explicit operator bool() const noexcept { return selected != strategy::none; }
};

// Selects the strategy and registers with the kernel now. Selection also
// happens by itself at load time or on first use, race-free; call init()
// before starting threads when you want registration to happen before them
// (registering later costs an RCU grace period) or want to test the outcome.
// Never stops the process: a missing or refused strategy is reported here.
// Later calls report the strategy in force (see init_result::selected).
ASYMFENCE_API init_result init() noexcept;

// Counters kept by the slow path, for diagnostics.
struct statistics {
  // heavy() calls, try_heavy() calls that returned true and heavy_completed()
  // calls that returned true
  std::uint64_t heavy_calls;
  // process-wide barriers issued (shared ones once; a call nested in a signal
  // handler issues its own)
  std::uint64_t barriers_issued;
  // PRIVATE_EXPEDITED registrations redone after EPERM that recovered the call
  std::uint64_t reregistrations;
  // system calls retried after EINTR/EAGAIN/ENOMEM (with backoff, see docs/design.md)
  std::uint64_t transient_retries;
  // moves to the next sound strategy after a failure
  std::uint64_t strategy_switches;
};
ASYMFENCE_API statistics stats() noexcept;

// light() has one body per build: a compiler barrier (the default build on
// Linux and Windows), a flag test (ASYMFENCE_CHECKED_LIGHT) or a seq_cst fence
// (ThreadSanitizer, or no asymmetric mechanism). Each body lives in its own
// inline namespace, so translation units built differently define different
// functions instead of breaking the one-definition rule. A compiler-barrier
// or flag-testing light() is sound only with the library built the same way
// (the default library never falls back to a fence, the checked one may): a
// translation unit that has one refers to a symbol that only that library
// defines, so a program that mixes the two builds fails to link. The reference
// is one pointer in a data section per translation unit (GCC and Clang; other
// compilers make none); light() itself costs nothing more. A fencing light()
// pairs with either library and refers to nothing.
#if ASYMFENCE_TSAN || !ASYMFENCE_HAS_ASYMMETRIC_MECHANISM
#define ASYMFENCE_LIGHT_VARIANT light_fence_v1
#elif ASYMFENCE_CHECKED_LIGHT
#define ASYMFENCE_LIGHT_VARIANT light_checked_v1
#else
#define ASYMFENCE_LIGHT_VARIANT light_compiler_v1
#endif

namespace detail {
#if ASYMFENCE_CHECKED_LIGHT
// True until an asymmetric mechanism is selected; never becomes true again.
extern ASYMFENCE_API std::atomic<bool> light_must_fence;
#endif
ASYMFENCE_API void heavy_slow() noexcept;

#if !ASYMFENCE_TSAN && ASYMFENCE_HAS_ASYMMETRIC_MECHANISM
inline namespace ASYMFENCE_LIGHT_VARIANT {
// Defined only by a library built for this translation unit's light().
extern ASYMFENCE_API const char library_variant;
#if defined(__GNUC__)
#if defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(retain)
#define ASYMFENCE_RETAIN_ __attribute__((retain))
#endif
#endif
#ifndef ASYMFENCE_RETAIN_
#define ASYMFENCE_RETAIN_
#endif
// Kept even when unused and under --gc-sections, so that the link checks it.
[[gnu::used]] ASYMFENCE_RETAIN_ static const char* const requires_library_variant =
    &library_variant;
#undef ASYMFENCE_RETAIN_
#endif
}  // namespace ASYMFENCE_LIGHT_VARIANT
#endif
}  // namespace detail

inline namespace ASYMFENCE_LIGHT_VARIANT {

// The light barrier. In the default build on Linux and Windows it emits no
// instruction at all: it only stops the compiler from moving memory accesses
// across it. With ASYMFENCE_CHECKED_LIGHT it loads one flag and fences only
// when no asymmetric mechanism exists. Under ThreadSanitizer it is a seq_cst
// fence.
//
// Memory ordering: ordered with any heavy() as if both were seq_cst fences.
inline void light() noexcept {
#if ASYMFENCE_TSAN || !ASYMFENCE_HAS_ASYMMETRIC_MECHANISM
  std::atomic_thread_fence(std::memory_order_seq_cst);
#elif ASYMFENCE_CHECKED_LIGHT
  if (__builtin_expect(detail::light_must_fence.load(std::memory_order_relaxed), 0)) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

// P1202's light barrier (below the heavy one's P1202 name). A relaxed fence
// has no effect; any other order is a full (seq_cst) light barrier.
inline void asymmetric_thread_fence_light(std::memory_order order) noexcept {
  if (order != std::memory_order_relaxed) light();
}

}  // namespace ASYMFENCE_LIGHT_VARIANT

// The heavy barrier: a seq_cst fence on this thread, and a memory barrier on
// every other thread of the process that is running during the call. Callers
// that arrive while another thread's barrier is in flight share the next one.
// If its mechanism fails it moves to the next sound one, or stops the process
// with a message naming the errno and the remedy; it never degrades silently.
//
// Memory ordering: ordered with any light() or heavy() as if both were
// seq_cst fences.
inline void heavy() noexcept { detail::heavy_slow(); }

// Like heavy(), but never waits behind another caller: returns true when a
// barrier that began after the call has completed by the time it returns
// (the same guarantee as heavy()), false at once, with no ordering promised,
// when it would have to wait. For a thread that can postpone its slow path
// (a reclaimer that retries on its next pass).
ASYMFENCE_API bool try_heavy() noexcept;

// The polling form of heavy(), for a thread that must never wait behind
// another caller yet must make progress (a reclaimer under sustained heavy()
// load, where try_heavy() may keep failing). start_heavy() records the
// arrival, ordering everything the caller did before it as heavy() would, and
// starts a barrier itself when none is in flight; heavy_completed(t) returns
// true once a barrier that began after that arrival has completed, and from
// then on the caller has heavy()'s guarantee for what it does after the call
// that returned true. Accesses made between the two calls are not ordered by
// the barrier. A poll never waits behind another caller: it leads a barrier
// itself when none is in flight (waiting only for its own), and answers false
// while another thread's barrier is in flight. A ticket completes once two
// barriers have completed after start_heavy() returned, so polls finish even
// while other threads keep calling heavy(). Tickets count in 64 bits: a ticket
// kept for any time stays completed once it is. Pass only tickets that
// start_heavy() returned (a value-initialized one reads as completed).
struct heavy_ticket {
  std::uint64_t target;  // the count of completed barriers that completes it; 0: fence strategy
};
ASYMFENCE_API heavy_ticket start_heavy() noexcept;
ASYMFENCE_API bool heavy_completed(heavy_ticket ticket) noexcept;

// Async-signal safety. Once selection has completed (it runs at load time;
// init() or any function of this header has returned once),
// heavy(), try_heavy(), start_heavy(), heavy_completed(), active_strategy()
// and stats() may be called from a signal handler: they take no lock,
// allocate nothing, and leave errno as they found it. A handler that
// interrupted one of the barrier calls on the same thread gets a barrier that
// began after its call: with membarrier_private_expedited, membarrier_global
// and fence it issues one of its own; the mprotect trick cannot be nested
// (one shared page), so there heavy() stops the process with a message and
// try_heavy() and heavy_completed() answer false. Not async-signal-safe: the
// first call, which runs selection (a handler that interrupts selection on
// its own thread stops the process with a message), init() and selection(),
// and the failure path of a mechanism (the warning or stop message is
// formatted with vsnprintf and strerror); a call nested in a handler never
// moves to another strategy, it stops the process if its mechanism keeps
// failing.

// P1202 names (asymmetric_thread_fence_light is above, beside light()). A
// relaxed fence has no effect; any other order is a full (seq_cst) light or
// heavy barrier.
inline void asymmetric_thread_fence_heavy(std::memory_order order) noexcept {
  if (order != std::memory_order_relaxed) heavy();
}

}  // namespace asymfence

#endif
