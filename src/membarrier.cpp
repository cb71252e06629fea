// SPDX-License-Identifier: Apache-2.0 OR MIT
// Linux membarrier(2): PRIVATE_EXPEDITED (IPIs to the CPUs now running this
// process's threads) and GLOBAL (an RCU grace period; slow but needs nothing).
#include "membarrier.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "errors.hpp"
#include "mechanism.hpp"
#include "os_seam.hpp"

namespace asymfence::detail {
namespace {

// The commands of <linux/membarrier.h>, spelled out so that the file builds
// on any platform and against old kernel headers.
constexpr int cmd_query = 0;
constexpr int cmd_global = 1 << 0;
constexpr int cmd_private_expedited = 1 << 3;
constexpr int cmd_register_private_expedited = 1 << 4;

#if defined(__riscv)
constexpr bool target_is_riscv = true;
#else
constexpr bool target_is_riscv = false;
#endif

bool query_offers(const membarrier_query_result& q, int bits, reason_buffer& reason) noexcept {
#if !defined(__linux__)
  (void)q;
  (void)bits;
  reason.set("needs Linux");
  return false;
#endif
  if (q.mask < 0) {
    reason.set("membarrier QUERY failed: %s (%s)", errno_name(q.error), std::strerror(q.error));
    return false;
  }
  if ((q.mask & bits) != bits) {
    reason.set("membarrier QUERY answered 0x%lx, which lacks 0x%x", q.mask, bits);
    return false;
  }
  return true;
}

int register_private_expedited() noexcept {
  return os.membarrier(cmd_register_private_expedited, 0, 0) == 0 ? 0 : errno;
}

bool check_private_expedited(const system_facts& facts, reason_buffer& reason) noexcept {
  if (!query_offers(facts.membarrier, cmd_private_expedited | cmd_register_private_expedited,
                    reason)) {
    return false;
  }
  if (!private_expedited_trusted(target_is_riscv, facts.kernel_release)) {
    reason.set("RISC-V kernel '%s' is older than 6.9: PRIVATE_EXPEDITED is broken there",
               facts.kernel_release);
    return false;
  }
  return true;
}

bool prepare_private_expedited(reason_buffer& reason) noexcept {
  int error = register_private_expedited();
  if (error != 0) {
    reason.set("REGISTER_PRIVATE_EXPEDITED failed: %s (%s)", errno_name(error),
               std::strerror(error));
    return false;
  }
  return true;
}

int issue_private_expedited() noexcept {
  if (os.membarrier(cmd_private_expedited, 0, 0) == 0) return 0;
  int error = errno;
  if (error != EPERM) return error;
  // EPERM means "not registered": the registration was lost (a CRIU
  // restore). Register again and retry once; count the registration only
  // when it recovered the call.
  if (register_private_expedited() != 0) return EPERM;
  if (os.membarrier(cmd_private_expedited, 0, 0) != 0) return errno;
  count_reregistration();
  return 0;
}

bool check_global(const system_facts& facts, reason_buffer& reason) noexcept {
  return query_offers(facts.membarrier, cmd_global, reason);
}

bool prepare_nothing(reason_buffer&) noexcept { return true; }

int issue_global() noexcept { return os.membarrier(cmd_global, 0, 0) == 0 ? 0 : errno; }

const char* membarrier_remedy(int error) noexcept {
  switch (error) {
    case ENOSYS:
      return "this kernel or sandbox lacks membarrier(2): allow the system call (seccomp "
             "profile, gVisor) or run on Linux >= 4.14";
    case EPERM:
      return "membarrier(2) is denied: allow it in the seccomp profile or sandbox policy";
    case EINVAL:
      return "the kernel refuses this membarrier command (GLOBAL is refused on nohz_full "
             "systems): allow PRIVATE_EXPEDITED, or build with ASYMFENCE_CHECKED_LIGHT=ON";
    default:
      return "check the sandbox and kernel, or build with ASYMFENCE_CHECKED_LIGHT=ON";
  }
}

}  // namespace

membarrier_query_result membarrier_query() noexcept {
  long mask = os.membarrier(cmd_query, 0, 0);
  if (mask < 0) return {-1, errno};
  return {mask, 0};
}

bool kernel_release_at_least(const char* release, int major, int minor) noexcept {
  int got_major = 0;
  int got_minor = 0;
  if (release == nullptr || std::sscanf(release, "%d.%d", &got_major, &got_minor) != 2) {
    return false;
  }
  return got_major > major || (got_major == major && got_minor >= minor);
}

bool private_expedited_trusted(bool riscv, const char* release) noexcept {
  return !riscv || kernel_release_at_least(release, 6, 9);
}

const mechanism membarrier_private_expedited_mechanism = {strategy::membarrier_private_expedited,
                                                          check_private_expedited,
                                                          prepare_private_expedited,
                                                          issue_private_expedited,
                                                          membarrier_remedy,
                                                          /*reentrant=*/true};

const mechanism membarrier_global_mechanism = {
    strategy::membarrier_global, check_global,      prepare_nothing, issue_global,
    membarrier_remedy,           /*reentrant=*/true};

}  // namespace asymfence::detail
