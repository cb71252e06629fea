// SPDX-License-Identifier: Apache-2.0 OR MIT
// The interface every barrier mechanism implements (one file per mechanism),
// and the registry that selection walks in order of preference.
#ifndef ASYMFENCE_SRC_MECHANISM_HPP
#define ASYMFENCE_SRC_MECHANISM_HPP

#include <asymfence/asymfence.hpp>
#include <cstddef>

#include "membarrier.hpp"

namespace asymfence::detail {

// Where a mechanism writes why it cannot be used ("QUERY lacks ...").
struct reason_buffer {
  char text[200] = "";
  void set(const char* format, ...) noexcept
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
      ;
};

// What selection learns from the kernel once, so that every check (and the
// report) decides on the same answers.
struct system_facts {
  membarrier_query_result membarrier;  // MEMBARRIER_CMD_QUERY's answer
  char kernel_release[128];            // uname -r; "" where unknown
};

struct mechanism {
  strategy id;
  // Whether the mechanism is sound and offered here, without side effects
  // (QUERY, architecture, /proc/cpuinfo). On false, reason says why.
  bool (*check)(const system_facts& facts, reason_buffer& reason) noexcept;
  // Readies it for use (registration, page set-up). On false, reason says why.
  bool (*prepare)(reason_buffer& reason) noexcept;
  // Issues one process-wide barrier. Returns 0, or the errno of a failure that
  // the mechanism could not recover from itself. Called by one thread at a
  // time, and again on that thread by a signal handler only where `reentrant`.
  int (*issue)() noexcept;
  // What an operator can do when this mechanism fails with the given errno.
  const char* (*remedy)(int error) noexcept;
  // Whether issue() may run on a thread whose own issue() a signal handler
  // interrupted (a plain system call may; the mprotect trick toggles one
  // shared page, so a nested call would change it under the interrupted one).
  bool reentrant = false;
};

extern const mechanism membarrier_private_expedited_mechanism;
extern const mechanism mprotect_mechanism;
extern const mechanism membarrier_global_mechanism;
extern const mechanism flush_process_write_buffers_mechanism;
extern const mechanism fence_mechanism;

// All mechanisms, in order of preference; the runtime fallback chain follows
// the same order.
inline const mechanism* const mechanisms_by_preference[] = {
    &membarrier_private_expedited_mechanism, &mprotect_mechanism, &membarrier_global_mechanism,
    &flush_process_write_buffers_mechanism, &fence_mechanism};
inline constexpr std::size_t mechanism_count =
    sizeof(mechanisms_by_preference) / sizeof(mechanisms_by_preference[0]);

const mechanism* find_mechanism(strategy id) noexcept;

// A known flaw of the platform that makes a selected mechanism do nothing
// (Wine implements FlushProcessWriteBuffers as a stub); "" when none.
const char* platform_warning() noexcept;

// Counters shared by the mechanisms and the slow path.
void count_reregistration() noexcept;

// Whether light() fences in this build (the library's own view; a TSan user
// translation unit fences too, but the library cannot rely on it).
inline constexpr bool light_fences_in_this_build =
    ASYMFENCE_CHECKED_LIGHT || !ASYMFENCE_HAS_ASYMMETRIC_MECHANISM;

}  // namespace asymfence::detail

#endif
