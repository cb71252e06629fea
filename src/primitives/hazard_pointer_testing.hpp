// SPDX-License-Identifier: Apache-2.0 OR MIT
// Hooks of the hazard pointer implementation for the library's own tests;
// not part of the public API.
#ifndef ASYMFENCE_SRC_PRIMITIVES_HAZARD_POINTER_TESTING_HPP
#define ASYMFENCE_SRC_PRIMITIVES_HAZARD_POINTER_TESTING_HPP

#include <asymfence/export.h>

#include "../test_api.hpp"

#include <asymfence/hazard_pointer.hpp>
#include <cstddef>

namespace asymfence::detail {

// Replaces the barrier a scan issues between taking the retired objects and
// reading the hazard slots (B in hazard_pointer.cpp) by `barrier`; nullptr
// restores heavy(). The store-buffering control passes a plain seq_cst fence.
ASYMFENCE_TEST_API void set_hazard_scan_barrier_for_testing(void (*barrier)()) noexcept;

// One scan of `list` (linked through next_retired, fields set as retire()
// sets them) on the calling thread, tight as a litmus test needs it: the scan
// barrier (heavy(), or the replacement above), the slot reads, the deleters
// of what no slot holds. Returns how many were kept (left unlinked).
ASYMFENCE_TEST_API std::size_t scan_for_testing(hazard_pointer_link* list) noexcept;

struct hazard_pointer_counts {
  std::size_t slots;    // hazard slots ever made (never freed)
  std::size_t records;  // per-thread records ever made (never freed)
};
ASYMFENCE_TEST_API hazard_pointer_counts hazard_pointer_counts_for_testing() noexcept;

}  // namespace asymfence::detail

#endif
