// SPDX-License-Identifier: Apache-2.0 OR MIT
// What selection found: for tools (asymfence-probe) and operators who want to
// know why a strategy was or was not chosen.
#ifndef ASYMFENCE_DIAGNOSTICS_HPP
#define ASYMFENCE_DIAGNOSTICS_HPP

#include <asymfence/asymfence.hpp>

namespace asymfence {

// One strategy as selection saw it.
struct candidate_report {
  strategy id = strategy::none;
  bool usable = false;    // sound and offered here (or forced past a reason below)
  bool selected = false;  // the one chosen at selection
  char reason[200] = "";  // why it is not usable (also when forced past it); "" when usable
};

// What CPUID says about TLB flushes (x86): the facts behind the verdict on the
// mprotect and virtual_protect strategies, which are barriers only where a
// TLB shootdown interrupts every CPU running a thread of the process.
struct tlb_flush_report {
  bool cpuid = false;                  // CPUID answered (x86); the facts below are its answers
  bool invlpgb = false;                // CPUID 0x80000008 EBX bit 3: AMD broadcast invalidation
  bool hypervisor = false;             // CPUID 1 ECX bit 31
  char hypervisor_signature[40] = "";  // the vendor at leaf 0x40000000 (and 0x40000100), e.g.
                                       // "KVMKVMKVM", "Microsoft Hv", "XenVMMXenVMM"
  bool kvm_pv_tlb_flush = false;       // KVM flushes preempted vCPUs at re-entry (0x40000001
                                       // EAX bit 9, without the real-time hint)
  bool hyperv_remote_flush = false;    // Hyper-V's flush hypercall recommended (0x40000004 EAX
                                       // bit 2)
  bool interrupts_every_cpu = false;   // the verdict: shootdowns reach every CPU (or as good)
  char verdict[200] = "";              // why
};

struct selection_report {
  strategy selected = strategy::none;  // chosen at selection (active_strategy() may differ later)
  int error = 0;                       // errno-style cause when none is sound
  char message[1024] = "";             // why none is sound; "" on success
  bool forced = false;                 // ASYMFENCE_STRATEGY named a strategy
  char forced_name[64] = "";           // its value, as given
  long membarrier_query = -1;          // MEMBARRIER_CMD_QUERY's bitmask, or -1
  int membarrier_query_error = 0;      // errno of a failed QUERY
  char kernel_release[128] = "";       // uname -r; "" where unknown
  bool light_fences = false;           // the library's light() fences (checked or fence-only build)
  char platform_warning[300] = "";     // ASYMFENCE_STRATEGY forced a strategy past a reason that
                                    // makes it unsound or unproven here (Wine's stub); "" if none
  tlb_flush_report tlb;                             // what CPUID says about TLB flushes
  candidate_report candidates[strategy_count - 1];  // every strategy but none, by preference
};

// A copy of what selection found, selecting first if that has not happened.
ASYMFENCE_API selection_report selection() noexcept;

}  // namespace asymfence

#endif
