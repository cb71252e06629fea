// SPDX-License-Identifier: Apache-2.0 OR MIT
// Counts the system calls the library makes through its seam, so that a test
// can prove that the real mechanism ran (not just that the litmus gave 0).
#ifndef ASYMFENCE_TESTS_SUPPORT_SEAM_COUNTER_HPP
#define ASYMFENCE_TESTS_SUPPORT_SEAM_COUNTER_HPP

#include <atomic>
#include <cstdint>

namespace asymfence::test {

struct seam_counts {
  std::atomic<std::uint64_t> membarrier_private_expedited{0};
  std::atomic<std::uint64_t> membarrier_register{0};
  std::atomic<std::uint64_t> membarrier_global{0};
  std::atomic<std::uint64_t> membarrier_query{0};
  std::atomic<std::uint64_t> mprotect{0};
  std::atomic<std::uint64_t> flush_process_write_buffers{0};  // Windows
  void reset() noexcept;
};

// The counts since the last reset. Counting starts with install_counting_seam().
seam_counts& counts() noexcept;

// Routes the library's membarrier, mprotect and FlushProcessWriteBuffers calls
// through counting wrappers around whatever the seam held before (so it
// composes with fault injection).
void install_counting_seam() noexcept;

}  // namespace asymfence::test

#endif
