// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "os_seam.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#elif defined(_WIN32)
#include <windows.h>
#endif

namespace asymfence::detail {
namespace {

#if defined(__linux__)
long sys_membarrier(int cmd, unsigned flags, int cpu_id) noexcept {
  return syscall(__NR_membarrier, cmd, flags, cpu_id);
}

int sys_mprotect(void* addr, std::size_t len, int prot) noexcept {
  return ::mprotect(addr, len, prot);
}

long sys_read_file(const char* path, char* buf, std::size_t cap) noexcept {
  if (cap == 0) {
    errno = EINVAL;
    return -1;
  }
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t len = 0;
  while (len + 1 < cap) {
    ssize_t n = ::read(fd, buf + len, cap - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return -1;
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buf[len] = '\0';
  return static_cast<long>(len);
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

int sys_mprotect(void*, std::size_t, int) noexcept {
  errno = ENOSYS;
  return -1;
}

long sys_read_file(const char*, char*, std::size_t) noexcept {
  errno = ENOSYS;
  return -1;
}

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

const char* sys_getenv(const char* name) noexcept { return std::getenv(name); }

constexpr os_seam real_table = {sys_membarrier,     sys_mprotect, sys_read_file,
                                sys_kernel_release, sys_getenv,   sys_flush_process_write_buffers};

}  // namespace

os_seam os = real_table;

const os_seam& real_os() noexcept { return real_table; }

}  // namespace asymfence::detail
