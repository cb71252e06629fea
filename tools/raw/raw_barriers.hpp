// SPDX-License-Identifier: Apache-2.0 OR MIT
// Each mechanism called straight through the operating system, with none of
// the library's sharing, retries or failure handling: one system call (or
// mprotect pair) per barrier, what other libraries do. The probe and the
// benchmarks measure heavy() against these; not part of the installed library.
#ifndef ASYMFENCE_TOOLS_RAW_RAW_BARRIERS_HPP
#define ASYMFENCE_TOOLS_RAW_RAW_BARRIERS_HPP

#include <asymfence/asymfence.hpp>
#include <string>

namespace asymfence::raw {

struct raw_barrier {
  strategy mechanism;       // the strategy whose mechanism this is
  const char* call;         // what it calls, for reports
  int (*issue)() noexcept;  // one process-wide barrier: 0, or the errno of the failed call
  bool slow;                // milliseconds per call (GLOBAL waits for an RCU grace period)
};

// The raw barrier of a strategy; nullptr for one that has none here (fence,
// or a mechanism of another operating system).
const raw_barrier* raw_barrier_of(strategy s) noexcept;

// membarrier's QUERY answer (the command mask); -1 with errno set when it
// fails, and -1 with ENOSYS off Linux.
long membarrier_query() noexcept;

// Registers the process for PRIVATE_EXPEDITED when `query_mask` (a QUERY
// answer, -1 for a failed QUERY) offers registration: -1 when it does not
// (nothing is called), else 0 or the errno of the failed call. Registering
// again is harmless, so the raw calls need not rely on the library's.
int register_private_expedited(long query_mask) noexcept;

// Readies `b` in this process without the library: QUERY must offer its
// command, PRIVATE_EXPEDITED is registered, the mprotect trick is tried once.
// false, with the reason in `why`, where it cannot run here.
bool prepare(const raw_barrier& b, std::string& why);

}  // namespace asymfence::raw

#endif
