// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "fake_kernel.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
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

void put_signature(const char* signature, std::uint32_t regs[4]) noexcept {
  char text[12] = {};
  std::memcpy(text, signature, std::min<std::size_t>(std::strlen(signature), sizeof text));
  std::memcpy(&regs[1], text, 12);  // EBX, ECX, EDX
}

// The faked CPU's answers: just the leaves that selection reads.
bool faked_cpuid(std::uint32_t leaf, std::uint32_t subleaf, std::uint32_t regs[4]) noexcept {
  if (!installed.cpu_faked) return detail::real_os().cpuid(leaf, subleaf, regs);
  const fake_cpu& c = installed.cpu;
  regs[0] = regs[1] = regs[2] = regs[3] = 0;
  if (c.no_cpuid) return false;
  const char* const signatures[2] = {c.hypervisor, c.second_hypervisor};
  switch (leaf) {
    case 0:
      regs[0] = 0x10;
      break;
    case 1:
      regs[2] = c.hypervisor != nullptr ? 1u << 31 : 0;
      break;
    case 0x80000000:
      regs[0] = 0x80000021;
      break;
    case 0x80000008:
      regs[1] = c.invlpgb ? 1u << 3 : 0;
      break;
    default:
      for (std::uint32_t i = 0; i < 2; ++i) {
        const std::uint32_t base = 0x40000000 + 0x100 * i;
        const char* signature = signatures[i];
        if (c.hypervisor == nullptr || signature == nullptr) continue;
        if (leaf == base) {
          regs[0] = base + 0x10;
          put_signature(signature, regs);
        } else if (leaf == base + 1 && std::strcmp(signature, "KVMKVMKVM") == 0) {
          regs[0] = c.kvm_pv_tlb_flush ? 1u << 9 : 0;
        } else if (leaf == base + 4 && std::strcmp(signature, "Microsoft Hv") == 0) {
          regs[0] = c.hyperv_remote_flush ? 1u << 2 : 0;
        }
      }
      break;
  }
  return true;
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
                            &mprotect}) {
    e->clear();
  }
  cpu_faked = false;
  cpu = fake_cpu{};
}

void kernel_faults::fake(const fake_cpu& c) noexcept {
  cpu = c;
  cpu_faked = true;
}

kernel_faults& faults() noexcept { return installed; }

void install_fake_kernel() noexcept {
  installed.clear();
  detail::os = detail::real_os();
  detail::os.membarrier = faulty_membarrier;
  detail::os.mprotect = faulty_mprotect;
  detail::os.cpuid = faked_cpuid;
  install_counting_seam();
  counts().reset();
}

void remove_fake_kernel() noexcept {
  installed.clear();
  detail::os = detail::real_os();
}

}  // namespace asymfence::test
