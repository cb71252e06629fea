// SPDX-License-Identifier: Apache-2.0 OR MIT
// The mprotect trick: removing write permission from a dirty, present page
// makes the kernel shoot down its TLB entry on every CPU that may cache it,
// by IPI on x86, and an interrupt is a full barrier on the CPU it lands on.
// Unsound where TLB invalidation is broadcast in hardware without an IPI:
// arm64, RISC-V, POWER, and x86 kernels that use AMD INVLPGB.
#include <cerrno>
#include <cstring>

#include "errors.hpp"
#include "mechanism.hpp"
#include "os_seam.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace asymfence::detail {
namespace {

#if defined(__linux__)
constexpr bool linux_kernel = true;
#else
constexpr bool linux_kernel = false;
#endif
#if defined(__x86_64__) || defined(__i386__)
constexpr bool trick_sound_on_this_architecture = true;
#else
constexpr bool trick_sound_on_this_architecture = false;
#endif

// The first "flags" line of /proc/cpuinfo lists "invlpgb" when the CPU has
// broadcast TLB invalidation, which Linux >= 6.15 uses instead of IPIs.
bool cpu_flags_allow_trick(reason_buffer& reason) noexcept {
  static char cpuinfo[64 * 1024];
  long len = os.read_file("/proc/cpuinfo", cpuinfo, sizeof cpuinfo);
  if (len < 0) {
    int error = errno;
    reason.set("/proc/cpuinfo is unreadable (%s), so INVLPGB cannot be ruled out",
               errno_name(error));
    return false;
  }
  const char* line = cpuinfo;
  while (line != nullptr && std::strncmp(line, "flags", 5) != 0) {
    line = std::strchr(line, '\n');
    if (line != nullptr) ++line;
  }
  const char* end = line == nullptr ? nullptr : std::strchr(line, '\n');
  if (line == nullptr || end == nullptr) {
    reason.set("/proc/cpuinfo has no complete flags line, so INVLPGB cannot be ruled out");
    return false;
  }
  for (const char* word = line; word < end;) {
    while (word < end && (*word == ' ' || *word == '\t' || *word == ':')) ++word;
    const char* word_end = word;
    while (word_end < end && *word_end != ' ' && *word_end != '\t') ++word_end;
    if (word_end - word == 7 && std::strncmp(word, "invlpgb", 7) == 0) {
      reason.set("the CPU has INVLPGB broadcast TLB flushes, which send no IPI");
      return false;
    }
    word = word_end;
  }
  return true;
}

bool check(const system_facts&, reason_buffer& reason) noexcept {
  if (!linux_kernel) {
    reason.set("needs Linux");
    return false;
  }
  if (!trick_sound_on_this_architecture) {
    reason.set("unsound on this architecture: TLB invalidation is broadcast without IPIs");
    return false;
  }
  return cpu_flags_allow_trick(reason);
}

#if defined(__linux__)
// The page whose protection is toggled. Set up once; the barrier leader is
// the only thread that touches it, so calls are serialised by the caller.
struct shootdown_page {
  volatile unsigned char* bytes = nullptr;
  std::size_t size = 0;
  bool locked = false;
};
shootdown_page page;

bool prepare(reason_buffer& reason) noexcept {
  if (page.bytes != nullptr) return true;
  long size = ::sysconf(_SC_PAGESIZE);
  if (size <= 0) size = 4096;
  void* p = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    reason.set("mmap of the shootdown page failed: %s", errno_name(errno));
    return false;
  }
  page.bytes = static_cast<volatile unsigned char*>(p);
  page.size = static_cast<std::size_t>(size);
  page.bytes[0] = 1;  // resident and dirty before the first barrier
  // Best effort: keeps the page resident so that each barrier finds a present
  // PTE. mlock must run while the page is read-write (it fails on PROT_NONE).
  page.locked = ::mlock(p, page.size) == 0;
  return true;
}

int issue() noexcept {
  void* addr = const_cast<unsigned char*>(page.bytes);
  // Write access, then a write: the PTE is present, accessed and dirty, so
  // the downgrade below must flush it from every CPU running this mm.
  if (os.mprotect(addr, page.size, PROT_READ | PROT_WRITE) != 0) return errno;
  page.bytes[0] = static_cast<unsigned char>(page.bytes[0] + 1);
  if (os.mprotect(addr, page.size, PROT_READ) != 0) return errno;
  return 0;
}
#else
bool prepare(reason_buffer& reason) noexcept {
  reason.set("needs Linux");
  return false;
}
int issue() noexcept { return ENOSYS; }
#endif

const char* remedy(int) noexcept {
  return "mprotect(2) on a private page failed: check the sandbox policy and memory limits, "
         "or allow membarrier(2)";
}

}  // namespace

const mechanism mprotect_mechanism = {strategy::mprotect, check, prepare, issue, remedy};

}  // namespace asymfence::detail
