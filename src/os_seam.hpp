// SPDX-License-Identifier: Apache-2.0 OR MIT
// The system-call seam: every operating-system call that selection or a
// barrier depends on goes through this one table, so tests can count calls and
// inject failures (an old kernel, a lost registration, a denied call, an
// unreadable /proc) without a special kernel.
#ifndef ASYMFENCE_SRC_OS_SEAM_HPP
#define ASYMFENCE_SRC_OS_SEAM_HPP

#include <cstddef>

#include "test_api.hpp"

namespace asymfence::detail {

struct os_seam {
  // Returns the call's result, or -1 with errno set (as the C library does).
  long (*membarrier)(int cmd, unsigned flags, int cpu_id) noexcept;
  int (*mprotect)(void* addr, std::size_t len, int prot) noexcept;
  // Reads up to cap-1 bytes of a file into buf, NUL-terminated; returns the
  // length, or -1 with errno set.
  long (*read_file)(const char* path, char* buf, std::size_t cap) noexcept;
  // Copies the kernel release ("6.18.44-...") into buf; 0, or -1 with errno set.
  int (*kernel_release)(char* buf, std::size_t cap) noexcept;
  const char* (*getenv)(const char* name) noexcept;
  // Windows: FlushProcessWriteBuffers; a no-op elsewhere.
  void (*flush_process_write_buffers)() noexcept;
};

// The table in use. Tests may replace entries before the library selects its
// strategy (or before reselect_for_testing()), and must not race with callers.
extern ASYMFENCE_TEST_API os_seam os;

// The real operating system's table, for tests that wrap it.
ASYMFENCE_TEST_API const os_seam& real_os() noexcept;

}  // namespace asymfence::detail

#endif
