// SPDX-License-Identifier: Apache-2.0 OR MIT
// A seq_cst fence on the heavy side: sound only where light() fences too
// (the checked-light build, or a platform without an asymmetric mechanism).
#include <atomic>

#include "mechanism.hpp"

namespace asymfence::detail {
namespace {

bool check(const system_facts&, reason_buffer& reason) noexcept {
  if (light_fences_in_this_build) return true;
  reason.set(
      "light() is only a compiler barrier in this build, so a fence on the heavy side alone "
      "would be unsound (build with ASYMFENCE_CHECKED_LIGHT=ON to allow it)");
  return false;
}

bool prepare(reason_buffer&) noexcept { return true; }

int issue() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return 0;
}

const char* remedy(int) noexcept { return "a fence cannot fail"; }

}  // namespace

const mechanism fence_mechanism = {strategy::fence, check,  prepare,
                                   issue,           remedy, /*reentrant=*/true};

}  // namespace asymfence::detail
