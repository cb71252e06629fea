// SPDX-License-Identifier: Apache-2.0 OR MIT
// Linux membarrier(2): what QUERY answered, and the kernel-version rule for
// RISC-V, exposed for tests.
#ifndef ASYMFENCE_SRC_MEMBARRIER_HPP
#define ASYMFENCE_SRC_MEMBARRIER_HPP

#include "test_api.hpp"

namespace asymfence::detail {

// The answer of MEMBARRIER_CMD_QUERY (a bitmask), or -1 with query_errno set.
struct membarrier_query_result {
  long mask;
  int error;
};
ASYMFENCE_TEST_API membarrier_query_result membarrier_query() noexcept;

// True when "release" (as uname -r prints it) is at least major.minor.
// False when it cannot be parsed.
ASYMFENCE_TEST_API bool kernel_release_at_least(const char* release, int major, int minor) noexcept;

// RISC-V kernels before 6.9 advertise PRIVATE_EXPEDITED but it is broken
// there; the rule is a function of the architecture so that it can be tested
// on any host.
ASYMFENCE_TEST_API bool private_expedited_trusted(bool riscv, const char* release) noexcept;

}  // namespace asymfence::detail

#endif
