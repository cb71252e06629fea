// SPDX-License-Identifier: Apache-2.0 OR MIT
// asymfence under the relacy model checker (https://github.com/dvyukov/relacy).
//
// Include <relacy/relacy.hpp> first, then this header (or define
// ASYMFENCE_RELACY=1 and include <asymfence/asymfence.hpp> as usual). Code
// built on asymfence then runs unchanged inside a relacy test: light(),
// heavy(), try_heavy(), start_heavy()/heavy_completed() and the P1202 names
// become relacy fences, so relacy
// explores the orderings the barriers allow and reports an execution the
// code does not survive. Nothing is linked: the model needs no library and no
// system call. See docs/model-checking.md.
//
// The model: light() and heavy() are each a seq_cst fence. That is exactly
// the contract of a light/heavy pair and of a heavy/heavy pair (ordered as if
// both were seq_cst fences). It is stronger than the contract between two
// light() calls, which promise nothing to each other: the model cannot catch
// code that relies on two light() barriers ordering each other, so every race
// a light() guards needs a heavy() on the other side.
//
// Only this C++ API is modelled; init(), stats() and the C API are not
// available in this mode (they describe the operating-system mechanism that
// the model replaces).
#ifndef ASYMFENCE_RELACY_HPP
#define ASYMFENCE_RELACY_HPP

// Misuse stops with one message (the rest of the header is skipped).
#if !defined(RL_RELACY_HPP)
#error "<asymfence/relacy.hpp> models asymfence under relacy: include <relacy/relacy.hpp> before it"
#elif defined(ASYMFENCE_ASYMFENCE_HPP)
#error "<asymfence/asymfence.hpp> was included before <asymfence/relacy.hpp>, so its real barriers (invisible to relacy) are already defined: include <relacy/relacy.hpp> and <asymfence/relacy.hpp> first"
#else

// Stands in for <asymfence/asymfence.hpp>: a later include of it (say, from
// the code under test) then sees these definitions and adds nothing.
#define ASYMFENCE_ASYMFENCE_HPP
#include <cstdint>
#ifndef ASYMFENCE_RELACY
#  define ASYMFENCE_RELACY 1
#endif

// The caller's function, file and line, for relacy's execution history.
// GCC and Clang evaluate these builtins at the call site when used as a
// default argument; elsewhere the history names this header.
#if defined(__GNUC__) || defined(__clang__)
#  define ASYMFENCE_RELACY_CALLER ::rl::debug_info(__builtin_FUNCTION(), __builtin_FILE(), __builtin_LINE())
#else
#  define ASYMFENCE_RELACY_CALLER RL_INFO
#endif

namespace asymfence {
namespace detail {
// Names the barrier in relacy's history, above the fence event it models.
inline void relacy_note(const char* what, ::rl::debug_info_param info) noexcept {
  ::rl::context& c = ::rl::ctx();
  if (c.collecting_history()) c.exec_log_msg(info, what);
}
}  // namespace detail

// The light barrier, modelled as a seq_cst fence.
inline void light(::rl::debug_info_param info = ASYMFENCE_RELACY_CALLER) noexcept {
  detail::relacy_note("asymfence::light()", info);
  ::rl::atomic_thread_fence(::rl::mo_seq_cst, info);
}

// The heavy barrier, modelled as a seq_cst fence.
inline void heavy(::rl::debug_info_param info = ASYMFENCE_RELACY_CALLER) noexcept {
  detail::relacy_note("asymfence::heavy()", info);
  ::rl::atomic_thread_fence(::rl::mo_seq_cst, info);
}

// try_heavy() may return false whenever another thread's barrier is in
// flight, so relacy explores both answers: true with heavy()'s fence, false
// with no ordering at all.
inline bool try_heavy(::rl::debug_info_param info = ASYMFENCE_RELACY_CALLER) noexcept {
  if (::rl::rand(2) == 0) {
    detail::relacy_note("asymfence::try_heavy() -> false (no barrier)", info);
    return false;
  }
  detail::relacy_note("asymfence::try_heavy() -> true", info);
  ::rl::atomic_thread_fence(::rl::mo_seq_cst, info);
  return true;
}

// The polling form. The barrier lies somewhere between start_heavy() and the
// heavy_completed() that returns true: relacy places it at one end or the
// other in each execution (a fence in start_heavy(), or in that
// heavy_completed()), so code that counts on accesses made between the two
// calls being on either side of the barrier is caught. A poll may answer
// false, with no ordering, as often as relacy likes.
struct heavy_ticket {
  std::uint64_t target = 0;       // unused in the model
  bool fenced_at_start = false;   // where this execution placed the barrier
};
inline heavy_ticket start_heavy(::rl::debug_info_param info = ASYMFENCE_RELACY_CALLER) noexcept {
  heavy_ticket ticket;
  if (::rl::rand(2) == 0) {
    detail::relacy_note("asymfence::start_heavy() (the barrier, placed here)", info);
    ::rl::atomic_thread_fence(::rl::mo_seq_cst, info);
    ticket.fenced_at_start = true;
  } else {
    detail::relacy_note("asymfence::start_heavy() (the barrier placed at completion)", info);
  }
  return ticket;
}
inline bool heavy_completed(heavy_ticket ticket,
                            ::rl::debug_info_param info = ASYMFENCE_RELACY_CALLER) noexcept {
  if (::rl::rand(2) == 0) {
    detail::relacy_note("asymfence::heavy_completed() -> false (no ordering)", info);
    return false;
  }
  detail::relacy_note("asymfence::heavy_completed() -> true", info);
  if (!ticket.fenced_at_start) ::rl::atomic_thread_fence(::rl::mo_seq_cst, info);
  return true;
}
// P1202 names, called as relacy code calls its own fences:
// asymmetric_thread_fence_light(rl::memory_order_acquire), which relacy's
// macro turns into (rl::mo_acquire, $); an rl::memory_order variable works
// too. The fence keeps the order it is given, so the model checks the code
// against P1202's promise for that order (which this library's build
// over-fulfils with a full barrier). A relaxed fence has no effect.
inline void asymmetric_thread_fence_light(
    ::rl::memory_order order, ::rl::debug_info_param info = ASYMFENCE_RELACY_CALLER) noexcept {
  if (order == ::rl::mo_relaxed) return;
  detail::relacy_note("asymfence::asymmetric_thread_fence_light()", info);
  ::rl::atomic_thread_fence(order, info);
}
inline void asymmetric_thread_fence_heavy(
    ::rl::memory_order order, ::rl::debug_info_param info = ASYMFENCE_RELACY_CALLER) noexcept {
  if (order == ::rl::mo_relaxed) return;
  detail::relacy_note("asymfence::asymmetric_thread_fence_heavy()", info);
  ::rl::atomic_thread_fence(order, info);
}

}  // namespace asymfence

#endif  // misuse
#endif
