// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "seam_counter.hpp"

#include "os_seam.hpp"

namespace asymfence::test {
namespace {

seam_counts counted;
detail::os_seam wrapped;  // the seam as it was before counting

long counting_membarrier(int cmd, unsigned flags, int cpu_id) noexcept {
  switch (cmd) {
    case 0: counted.membarrier_query++; break;
    case 1: counted.membarrier_global++; break;
    case 1 << 3: counted.membarrier_private_expedited++; break;
    case 1 << 4: counted.membarrier_register++; break;
    default: break;
  }
  return wrapped.membarrier(cmd, flags, cpu_id);
}

int counting_mprotect(void* addr, std::size_t len, int prot) noexcept {
  counted.mprotect++;
  return wrapped.mprotect(addr, len, prot);
}

void counting_flush_process_write_buffers() noexcept {
  counted.flush_process_write_buffers++;
  wrapped.flush_process_write_buffers();
}

}  // namespace

void seam_counts::reset() noexcept {
  membarrier_private_expedited = 0;
  membarrier_register = 0;
  membarrier_global = 0;
  membarrier_query = 0;
  mprotect = 0;
  flush_process_write_buffers = 0;
}

seam_counts& counts() noexcept { return counted; }

void install_counting_seam() noexcept {
  if (detail::os.membarrier == counting_membarrier) return;
  wrapped = detail::os;
  detail::os.membarrier = counting_membarrier;
  detail::os.mprotect = counting_mprotect;
  detail::os.flush_process_write_buffers = counting_flush_process_write_buffers;
}

}  // namespace asymfence::test
