// SPDX-License-Identifier: Apache-2.0 OR MIT
// The system-call seam: every operating-system call that selection or a
// barrier depends on goes through this one table, so tests can count calls and
// inject failures (an old kernel, a lost registration, a denied call, a CPU
// or hypervisor we do not have) without a special kernel or machine.
#ifndef ASYMFENCE_SRC_OS_SEAM_HPP
#define ASYMFENCE_SRC_OS_SEAM_HPP

#include <cstddef>
#include <cstdint>

#include "test_api.hpp"

namespace asymfence::detail {

// Page protections for the seam's mprotect: Linux's PROT_READ and PROT_WRITE
// values, also on Windows, where the seam maps them to VirtualProtect's.
inline constexpr int page_read = 0x1;
inline constexpr int page_write = 0x2;

struct os_seam {
  // Returns the call's result, or -1 with errno set (as the C library does).
  long (*membarrier)(int cmd, unsigned flags, int cpu_id) noexcept;
  // mprotect(2) on Linux, VirtualProtect on Windows (prot: page_read,
  // page_read | page_write); 0, or -1 with errno set.
  int (*mprotect)(void* addr, std::size_t len, int prot) noexcept;
  // Copies the kernel release ("6.18.44-...") into buf; 0, or -1 with errno set.
  int (*kernel_release)(char* buf, std::size_t cap) noexcept;
  // secure_getenv(3) where the C library has it: NULL in a program that runs
  // with more privilege than its caller (setuid, file capabilities), so that
  // the caller cannot force a strategy on it; getenv(3) elsewhere.
  const char* (*getenv)(const char* name) noexcept;
  // Windows: FlushProcessWriteBuffers; a no-op elsewhere.
  void (*flush_process_write_buffers)() noexcept;
  // Runs CPUID with EAX = leaf, ECX = subleaf and stores EAX, EBX, ECX, EDX in
  // regs; false where the instruction does not exist (not x86). The caller
  // checks the highest leaf of each range first, as the CPU answers leaves
  // beyond it with other leaves' data.
  bool (*cpuid)(std::uint32_t leaf, std::uint32_t subleaf, std::uint32_t regs[4]) noexcept;
  // Under Wine: true, with Wine's version and the host's system name
  // ("Linux", "Darwin"); false on Windows itself and elsewhere.
  bool (*wine)(const char** version, const char** host_system) noexcept;
};

// The table in use. Tests may replace entries before the library selects its
// strategy (or before reselect_for_testing()), and must not race with callers.
extern ASYMFENCE_TEST_API os_seam os;

// The real operating system's table, for tests that wrap it.
ASYMFENCE_TEST_API const os_seam& real_os() noexcept;

}  // namespace asymfence::detail

#endif
