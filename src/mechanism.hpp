// SPDX-License-Identifier: Apache-2.0 OR MIT
// The interface every barrier mechanism implements (one file per mechanism),
// and the registry that selection walks in order of preference.
#ifndef ASYMFENCE_SRC_MECHANISM_HPP
#define ASYMFENCE_SRC_MECHANISM_HPP

#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>
#include <cstddef>

#include "membarrier.hpp"
#include "test_api.hpp"

namespace asymfence::detail {

// Where a mechanism writes why it cannot be used ("QUERY lacks ...").
struct reason_buffer {
  char text[200] = "";
  // Set with a refusal that ASYMFENCE_STRATEGY may override: the mechanism is
  // not provably a barrier here (a hypervisor's paravirtual flush) or known to
  // do nothing (Wine's stub), but an operator who forces it by name gets it,
  // with the reason as a warning. Never set for an unsound architecture.
  bool accept_if_forced = false;
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
  tlb_flush_report tlb;                // what CPUID says (verdict filled in at selection)
};

struct mechanism {
  strategy id;
  // Whether the mechanism is sound and offered here, without side effects
  // (QUERY, architecture, CPUID). On false, reason says why.
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
extern const mechanism virtual_protect_mechanism;
extern const mechanism fence_mechanism;

// All mechanisms, in order of preference; the runtime fallback chain follows
// the same order. On Windows FlushProcessWriteBuffers comes first; under Wine,
// where it is a stub, its check refuses it and VirtualProtect takes over.
inline const mechanism* const mechanisms_by_preference[] = {&membarrier_private_expedited_mechanism,
                                                            &mprotect_mechanism,
                                                            &membarrier_global_mechanism,
                                                            &flush_process_write_buffers_mechanism,
                                                            &virtual_protect_mechanism,
                                                            &fence_mechanism};
inline constexpr std::size_t mechanism_count =
    sizeof(mechanisms_by_preference) / sizeof(mechanisms_by_preference[0]);

ASYMFENCE_TEST_API const mechanism* find_mechanism(strategy id) noexcept;

// Counters shared by the mechanisms and the slow path.
void count_reregistration() noexcept;

// Whether light() fences in this build (the library's own view; a TSan user
// translation unit fences too, but the library cannot rely on it).
inline constexpr bool light_fences_in_this_build =
    ASYMFENCE_CHECKED_LIGHT || !ASYMFENCE_HAS_ASYMMETRIC_MECHANISM;

}  // namespace asymfence::detail

#endif
