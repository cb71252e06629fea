// SPDX-License-Identifier: Apache-2.0 OR MIT
// How many barriers a strategy's own mechanism issued, as counted by the
// counting seam: the proof, beside a litmus result, that the real mechanism ran.
#ifndef ASYMFENCE_TESTS_CORE_MECHANISM_BARRIERS_HPP
#define ASYMFENCE_TESTS_CORE_MECHANISM_BARRIERS_HPP

#include <asymfence/asymfence.hpp>

#include <cstdint>

#include "seam_counter.hpp"

namespace asymfence::test {

// Barriers that strategy s issued through the seam since the last reset (the
// mprotect trick makes two calls per barrier); 0 for a strategy that makes no
// system call.
inline std::uint64_t mechanism_barriers(strategy s) noexcept {
  const seam_counts& c = counts();
  switch (s) {
    case strategy::membarrier_private_expedited: return c.membarrier_private_expedited;
    case strategy::mprotect: return c.mprotect / 2;
    case strategy::membarrier_global: return c.membarrier_global;
    default: return 0;
  }
}

}  // namespace asymfence::test

#endif
