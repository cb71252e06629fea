// SPDX-License-Identifier: Apache-2.0 OR MIT
// The shootdown trick: removing write permission from a dirty, present page
// makes the kernel invalidate its TLB entry on every CPU that may cache it,
// by IPI on x86, and an interrupt is a full barrier on the CPU it lands on.
// Two faces: mprotect on Linux (strategy `mprotect`) and VirtualProtect on
// Windows (strategy `virtual_protect`; Wine maps it to the host's mprotect).
// Both are sound only where tlb_shootdown.hpp says shootdowns interrupt every
// CPU: not on arm64, RISC-V or POWER, nor with AMD INVLPGB, nor behind a
// hypervisor's paravirtual flush that cannot be argued sound.
//
// Publication: the page is set up once and published as one fully built,
// immutable object through one atomic pointer, so that a thread (or a child
// forked at any instruction of prepare()) sees either no page, and prepares
// one, or a complete one; never an address with a size of 0, which mprotect
// accepts without interrupting anyone.
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "errors.hpp"
#include "mechanism.hpp"
#include "os_seam.hpp"
#include "tlb_shootdown.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#elif defined(_WIN32)
#include <windows.h>
#endif

namespace asymfence::detail {
namespace {

struct shootdown_page {
  volatile unsigned char* bytes;
  std::size_t size;
  bool locked;  // best effort: kept resident, so each barrier finds a present entry
};

shootdown_page storage;  // written only while `published` is null
std::atomic<const shootdown_page*> published{nullptr};

#if defined(__linux__)
constexpr const char* platform_name = "Linux";
constexpr const char* map_call = "mmap";

void* map_page(std::size_t& size) noexcept {
  long page = ::sysconf(_SC_PAGESIZE);
  size = page > 0 ? static_cast<std::size_t>(page) : 4096;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// mlock must run while the page is read-write (it fails on PROT_NONE, the
// membarrier-rs bug).
bool lock_page(void* p, std::size_t size) noexcept { return ::mlock(p, size) == 0; }
#elif defined(_WIN32)
constexpr const char* platform_name = "Windows";
constexpr const char* map_call = "VirtualAlloc";

void* map_page(std::size_t& size) noexcept {
  SYSTEM_INFO info;
  ::GetSystemInfo(&info);
  size = info.dwPageSize > 0 ? info.dwPageSize : 4096;
  void* p = ::VirtualAlloc(nullptr, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
  if (p == nullptr) errno = ENOMEM;
  return p;
}

bool lock_page(void* p, std::size_t size) noexcept { return ::VirtualLock(p, size) != 0; }
#else
constexpr const char* platform_name = "";
constexpr const char* map_call = "";

void* map_page(std::size_t&) noexcept {
  errno = ENOSYS;
  return nullptr;
}
bool lock_page(void*, std::size_t) noexcept { return false; }
#endif

bool prepare(reason_buffer& reason) noexcept {
  if (published.load(std::memory_order_acquire) != nullptr) return true;
  std::size_t size = 0;
  void* p = map_page(size);
  if (p == nullptr) {
    reason.set("%s of the shootdown page failed: %s", map_call, errno_name(errno));
    return false;
  }
  auto* bytes = static_cast<volatile unsigned char*>(p);
  bytes[0] = 1;  // present and dirty before the first barrier
  storage = shootdown_page{bytes, size, lock_page(p, size)};
  published.store(&storage, std::memory_order_release);
  return true;
}

int issue() noexcept {
  const shootdown_page* page = published.load(std::memory_order_acquire);
  if (page == nullptr) return EFAULT;  // not prepared: selection never lets this happen
  void* addr = const_cast<unsigned char*>(page->bytes);
  // Write access, then a write: the entry is present, accessed and dirty, so
  // the downgrade below must flush it from every CPU running this process.
  if (os.mprotect(addr, page->size, page_read | page_write) != 0) return errno;
  page->bytes[0] = static_cast<unsigned char>(page->bytes[0] + 1);
  if (os.mprotect(addr, page->size, page_read) != 0) return errno;
  return 0;
}

// The checks of both faces: the platform, then the shared CPU rule.
bool check_on(const char* platform, const system_facts& facts, reason_buffer& reason) noexcept {
  if (std::strcmp(platform, platform_name) != 0) {
    reason.set("needs %s", platform);
    return false;
  }
  return shootdown_interrupts_every_cpu(facts.tlb, reason);
}

bool check_mprotect(const system_facts& facts, reason_buffer& reason) noexcept {
  return check_on("Linux", facts, reason);
}

// Under Wine, VirtualProtect is the host's mprotect: the rule holds for a
// Linux host (CPUID describes the host's CPU and hypervisor); other hosts'
// kernels are not covered by it.
bool check_virtual_protect(const system_facts& facts, reason_buffer& reason) noexcept {
  if (!check_on("Windows", facts, reason)) return false;
  const char* wine_version = "";
  const char* host = "";
  if (os.wine(&wine_version, &host) && std::strcmp(host, "Linux") != 0) {
    reason.set("running under Wine on '%.40s': only a Linux host's TLB flushes are known here",
               host);
    return false;
  }
  return true;
}

const char* mprotect_remedy(int) noexcept {
  return "mprotect(2) on a private page failed: check the sandbox policy and memory limits, "
         "or allow membarrier(2)";
}

const char* virtual_protect_remedy(int) noexcept {
  return "VirtualProtect on a private page failed: check the process's memory limits";
}

}  // namespace

const mechanism mprotect_mechanism = {strategy::mprotect, check_mprotect, prepare, issue,
                                      mprotect_remedy};

const mechanism virtual_protect_mechanism = {strategy::virtual_protect, check_virtual_protect,
                                             prepare, issue, virtual_protect_remedy};

}  // namespace asymfence::detail
