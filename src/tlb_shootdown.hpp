// SPDX-License-Identifier: Apache-2.0 OR MIT
// Whether a TLB shootdown interrupts every CPU that runs a thread of the
// process: the condition under which removing write access from a dirty page
// is a process-wide barrier, shared by the mprotect trick (Linux) and the
// VirtualProtect trick (Windows, and Wine, which maps it to the host's
// mprotect). Decided from CPUID, asked through the system-call seam once at
// selection; see docs/design.md, section 4.
#ifndef ASYMFENCE_SRC_TLB_SHOOTDOWN_HPP
#define ASYMFENCE_SRC_TLB_SHOOTDOWN_HPP

#include <asymfence/diagnostics.hpp>

namespace asymfence::detail {

struct reason_buffer;

// What CPUID says (x86): INVLPGB, the hypervisor and its paravirtual flush.
// The verdict is left empty; shootdown_interrupts_every_cpu() decides.
tlb_flush_report read_tlb_facts() noexcept;

// True when a shootdown interrupts every CPU running one of our threads (or a
// paravirtual flush that is as good, argued in docs/design.md); reason then
// says why, briefly. False when it does not, or when the library cannot
// argue that it does; reason says why, and reason.accept_if_forced is set
// where forcing the strategy by name is still accepted (a hypervisor's
// paravirtual flush: the library cannot prove it a barrier, its operator may
// know better).
bool shootdown_interrupts_every_cpu(const tlb_flush_report& facts, reason_buffer& reason) noexcept;

}  // namespace asymfence::detail

#endif
