// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "os_seam.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#elif defined(_WIN32)
#include <windows.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace asymfence::detail {
namespace {

#if defined(__linux__)
static_assert(page_read == PROT_READ && page_write == PROT_WRITE,
              "the seam's protections are Linux's");

long sys_membarrier(int cmd, unsigned flags, int cpu_id) noexcept {
  return syscall(__NR_membarrier, cmd, flags, cpu_id);
}

int sys_mprotect(void* addr, std::size_t len, int prot) noexcept {
  return ::mprotect(addr, len, prot);
}

int sys_kernel_release(char* buf, std::size_t cap) noexcept {
  struct utsname u;
  if (::uname(&u) != 0) return -1;
  std::strncpy(buf, u.release, cap - 1);
  buf[cap - 1] = '\0';
  return 0;
}

void sys_flush_process_write_buffers() noexcept {}
#else
long sys_membarrier(int, unsigned, int) noexcept {
  errno = ENOSYS;
  return -1;
}

#if defined(_WIN32)
int sys_mprotect(void* addr, std::size_t len, int prot) noexcept {
  DWORD wanted = (prot & page_write) != 0 ? PAGE_READWRITE : PAGE_READONLY;
  DWORD old = 0;
  if (::VirtualProtect(addr, len, wanted, &old)) return 0;
  switch (::GetLastError()) {
    case ERROR_ACCESS_DENIED:
      errno = EACCES;
      break;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
      errno = ENOMEM;
      break;
    default:
      errno = EINVAL;
      break;
  }
  return -1;
}
#else
int sys_mprotect(void*, std::size_t, int) noexcept {
  errno = ENOSYS;
  return -1;
}
#endif

int sys_kernel_release(char*, std::size_t) noexcept {
  errno = ENOSYS;
  return -1;
}

#if defined(_WIN32)
void sys_flush_process_write_buffers() noexcept { ::FlushProcessWriteBuffers(); }
#else
void sys_flush_process_write_buffers() noexcept {}
#endif
#endif

const char* sys_getenv(const char* name) noexcept {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 17))
  return ::secure_getenv(name);
#else
  return std::getenv(name);
#endif
}

bool sys_cpuid(std::uint32_t leaf, std::uint32_t subleaf, std::uint32_t regs[4]) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  __cpuid_count(leaf, subleaf, a, b, c, d);
  regs[0] = a;
  regs[1] = b;
  regs[2] = c;
  regs[3] = d;
  return true;
#else
  (void)leaf;
  (void)subleaf;
  regs[0] = regs[1] = regs[2] = regs[3] = 0;
  return false;
#endif
}

bool sys_wine(const char** version, const char** host_system) noexcept {
#if defined(_WIN32)
  // Wine's ntdll exports these; Windows' does not.
  using version_function = const char* (*)();
  using host_function = void (*)(const char** sysname, const char** release);
  HMODULE ntdll = ::GetModuleHandleA("ntdll.dll");
  if (ntdll == nullptr) return false;
  auto get_version = reinterpret_cast<version_function>(
      reinterpret_cast<void*>(::GetProcAddress(ntdll, "wine_get_version")));
  if (get_version == nullptr) return false;
  auto get_host = reinterpret_cast<host_function>(
      reinterpret_cast<void*>(::GetProcAddress(ntdll, "wine_get_host_version")));
  const char* sysname = "";
  const char* release = "";
  if (get_host != nullptr) get_host(&sysname, &release);
  *version = get_version();
  *host_system = sysname == nullptr ? "" : sysname;
  return true;
#else
  (void)version;
  (void)host_system;
  return false;
#endif
}

constexpr os_seam real_table = {
    sys_membarrier, sys_mprotect, sys_kernel_release, sys_getenv, sys_flush_process_write_buffers,
    sys_cpuid,      sys_wine};

}  // namespace

os_seam os = real_table;

const os_seam& real_os() noexcept { return real_table; }

}  // namespace asymfence::detail
