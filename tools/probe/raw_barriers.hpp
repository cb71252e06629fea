// SPDX-License-Identifier: Apache-2.0 OR MIT
// Each mechanism called straight through the operating system, with none of
// the library's sharing, retries or failure handling: the baseline that
// heavy() is measured against.
#ifndef ASYMFENCE_TOOLS_PROBE_RAW_BARRIERS_HPP
#define ASYMFENCE_TOOLS_PROBE_RAW_BARRIERS_HPP

#include <asymfence/asymfence.hpp>

#include "findings.hpp"

namespace asymfence::probe {

struct raw_barrier {
  strategy mechanism;
  const char* call;       // what it calls, for the report
  int (*issue)() noexcept;  // 0, or the errno of the failed call
  bool slow;              // milliseconds per call (GLOBAL): a few samples only
};

// The raw barrier of a strategy; nullptr for one that has none here (fence,
// or a mechanism of another operating system).
const raw_barrier* raw_barrier_of(strategy s) noexcept;

// Calls MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED where QUERY (`query_mask`,
// -1 when it failed) offers it, so that the report says whether registration
// works and the raw PRIVATE_EXPEDITED call can be measured whatever the
// library selected.
registration_check register_private_expedited(long query_mask) noexcept;

}  // namespace asymfence::probe

#endif
