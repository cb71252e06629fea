// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "fake_kernel.hpp"

#include <cerrno>
#include <cstring>
#include <initializer_list>

#include <linux/membarrier.h>

#include "os_seam.hpp"
#include "seam_counter.hpp"

namespace asymfence::test {
namespace {

kernel_faults installed;

long fail_with(int error) noexcept {
  errno = error;
  return -1;
}

injected_error* membarrier_fault(int cmd) noexcept {
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY: return &installed.query;
    case MEMBARRIER_CMD_GLOBAL: return &installed.global;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED: return &installed.private_expedited;
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: return &installed.register_private_expedited;
    default: return nullptr;
  }
}

long faulty_membarrier(int cmd, unsigned flags, int cpu_id) noexcept {
  injected_error* fault = membarrier_fault(cmd);
  if (fault != nullptr && fault->strikes()) return fail_with(fault->error);
  if (cmd == MEMBARRIER_CMD_QUERY && installed.query_answer >= 0) return installed.query_answer;
  return detail::real_os().membarrier(cmd, flags, cpu_id);
}

int faulty_mprotect(void* addr, std::size_t len, int prot) noexcept {
  if (installed.mprotect.strikes()) return static_cast<int>(fail_with(installed.mprotect.error));
  return detail::real_os().mprotect(addr, len, prot);
}

long faulty_read_file(const char* path, char* buf, std::size_t cap) noexcept {
  if (installed.read_file.strikes()) return fail_with(installed.read_file.error);
  if (installed.cpuinfo != nullptr && std::strcmp(path, "/proc/cpuinfo") == 0) {
    std::size_t len = std::strlen(installed.cpuinfo);
    if (len + 1 > cap) len = cap - 1;
    std::memcpy(buf, installed.cpuinfo, len);
    buf[len] = '\0';
    return static_cast<long>(len);
  }
  return detail::real_os().read_file(path, buf, cap);
}

}  // namespace

void injected_error::always(int e) noexcept { times(e, -1); }

void injected_error::times(int e, int count) noexcept {
  error = e;
  remaining.store(count);
}

void injected_error::clear() noexcept { times(0, -1); }

bool injected_error::strikes() noexcept {
  if (error == 0) return false;
  int left = remaining.load();
  while (left != 0) {
    if (left < 0) return true;
    if (remaining.compare_exchange_weak(left, left - 1)) return true;
  }
  return false;
}

void kernel_faults::clear() noexcept {
  query_answer = -1;
  for (injected_error* e : {&query, &register_private_expedited, &private_expedited, &global,
                            &mprotect, &read_file}) {
    e->clear();
  }
  cpuinfo = nullptr;
}

kernel_faults& faults() noexcept { return installed; }

void install_fake_kernel() noexcept {
  installed.clear();
  detail::os = detail::real_os();
  detail::os.membarrier = faulty_membarrier;
  detail::os.mprotect = faulty_mprotect;
  detail::os.read_file = faulty_read_file;
  install_counting_seam();
  counts().reset();
}

void remove_fake_kernel() noexcept {
  installed.clear();
  detail::os = detail::real_os();
}

}  // namespace asymfence::test
