// SPDX-License-Identifier: Apache-2.0 OR MIT
// A kernel with faults, behind the library's system-call seam: each field of
// `faults()` describes one fault; with the defaults every call goes to the
// real system. The counting seam (tests/support) composes on top of it.
#ifndef ASYMFENCE_TESTS_FAULTS_FAKE_KERNEL_HPP
#define ASYMFENCE_TESTS_FAULTS_FAKE_KERNEL_HPP

#include <atomic>

namespace asymfence::test {

// A failure that may stop after a number of calls.
struct injected_error {
  int error = 0;                  // errno to fail with; 0: no fault
  std::atomic<int> remaining{-1};  // calls still to fail; -1: every call

  void always(int e) noexcept;
  void times(int e, int count) noexcept;
  void clear() noexcept;
  // Whether this call fails (consumes one of `remaining`).
  bool strikes() noexcept;
};

// A CPU and hypervisor as CPUID describes them, for the seam's cpuid. Every
// other leaf answers zeros.
struct fake_cpu {
  bool invlpgb = false;              // CPUID 0x80000008 EBX bit 3
  const char* hypervisor = nullptr;  // the signature at 0x40000000 ("KVMKVMKVM", "Microsoft Hv",
                                     // "XenVMMXenVMM"); nullptr: bare metal (no hypervisor bit)
  const char* second_hypervisor = nullptr;  // the signature at 0x40000100, if any
  bool kvm_pv_tlb_flush = false;            // KVM: 0x40000001 EAX bit 9 at KVM's base
  bool hyperv_remote_flush = false;         // Hyper-V: 0x40000004 EAX bit 2 at Hyper-V's base
  bool no_cpuid = false;                    // the seam answers that CPUID does not exist
};

struct kernel_faults {
  long query_answer = -1;  // MEMBARRIER_CMD_QUERY answers this mask (-1: the real one)
  injected_error query;    // QUERY fails
  injected_error register_private_expedited;
  injected_error private_expedited;
  injected_error global;
  injected_error mprotect;
  bool cpu_faked = false;  // CPUID answers from `cpu` below instead of the real CPU
  fake_cpu cpu;

  // CPUID describes `c` from now on.
  void fake(const fake_cpu& c) noexcept;

  void clear() noexcept;
};

// The faults in force; change them only while no other thread uses the library.
kernel_faults& faults() noexcept;

// Routes the library's seam through the faults above and installs the
// counting seam over them (counts start at zero). Clears any earlier faults.
void install_fake_kernel() noexcept;

// Gives the library the real seam back (no faults, no counting).
void remove_fake_kernel() noexcept;

}  // namespace asymfence::test

#endif
