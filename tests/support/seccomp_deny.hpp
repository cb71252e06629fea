// SPDX-License-Identifier: Apache-2.0 OR MIT
// Denies membarrier(2) to the calling process (and its future threads and
// children) with a raw seccomp-BPF filter: the call then fails with `error`.
// Used to fake sandboxes, before start-up (install, then exec) or after it.
#ifndef ASYMFENCE_TESTS_SUPPORT_SECCOMP_DENY_HPP
#define ASYMFENCE_TESTS_SUPPORT_SECCOMP_DENY_HPP

namespace asymfence::test {

// Returns false (with errno) when the filter could not be installed.
// Applies to every thread of the process (SECCOMP_FILTER_FLAG_TSYNC).
bool deny_membarrier(int error) noexcept;

}  // namespace asymfence::test

#endif
