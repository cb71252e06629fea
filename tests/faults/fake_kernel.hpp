// SPDX-License-Identifier: Apache-2.0 OR MIT
// A kernel with faults, behind the library's system-call seam: each field of
// `faults()` describes one fault; with the defaults every call goes to the
// real system. The counting seam (tests/support) composes on top of it.
#ifndef ASYMFENCE_TESTS_FAULTS_FAKE_KERNEL_HPP
#define ASYMFENCE_TESTS_FAULTS_FAKE_KERNEL_HPP

#include <atomic>

namespace asymfence::test {

// A failure that may stop after a number of calls.
struct injected_error {
  int error = 0;                  // errno to fail with; 0: no fault
  std::atomic<int> remaining{-1};  // calls still to fail; -1: every call

  void always(int e) noexcept;
  void times(int e, int count) noexcept;
  void clear() noexcept;
  // Whether this call fails (consumes one of `remaining`).
  bool strikes() noexcept;
};

struct kernel_faults {
  long query_answer = -1;  // MEMBARRIER_CMD_QUERY answers this mask (-1: the real one)
  injected_error query;    // QUERY fails
  injected_error register_private_expedited;
  injected_error private_expedited;
  injected_error global;
  injected_error mprotect;
  injected_error read_file;  // every file read (/proc absent or unreadable)
  const char* cpuinfo = nullptr;  // /proc/cpuinfo reads give this text (nullptr: the real file)

  void clear() noexcept;
};

// The faults in force; change them only while no other thread uses the library.
kernel_faults& faults() noexcept;

// Routes the library's seam through the faults above and installs the
// counting seam over them (counts start at zero). Clears any earlier faults.
void install_fake_kernel() noexcept;

// Gives the library the real seam back (no faults, no counting).
void remove_fake_kernel() noexcept;

}  // namespace asymfence::test

#endif
