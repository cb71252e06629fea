// SPDX-License-Identifier: Apache-2.0 OR MIT
// The rule (docs/design.md, section 4): on x86 a shootdown is an IPI to every
// CPU whose TLB may hold the entry, and an interrupt is serialising, unless
//  - the CPU has AMD's INVLPGB, which Linux >= 6.15 uses to flush by broadcast
//    (a process active on several CPUs gets a global ASID), interrupting no
//    one. /proc/cpuinfo does not show it (the kernel gives the flag no name),
//    so CPUID 0x80000008 EBX bit 3 decides. Intel's RAR (remote action
//    request) would do the same, but no Linux release up to 6.18 uses it, and
//    it is enumerated in an MSR (IA32_CORE_CAPABILITIES bit 1) that user space
//    cannot read: see docs/design.md;
//  - a hypervisor flushes other vCPUs for the guest. KVM's paravirtual flush
//    skips only preempted vCPUs and flushes them at re-entry: sound (argued in
//    docs/design.md). Hyper-V's remote-flush hypercall and Xen's flush are
//    not arguable from their specifications: refused unless forced.
#include "tlb_shootdown.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "mechanism.hpp"
#include "os_seam.hpp"

namespace asymfence::detail {
namespace {

#if defined(__x86_64__) || defined(__i386__)
constexpr bool x86 = true;
#else
constexpr bool x86 = false;
#endif

constexpr std::uint32_t leaf_features = 1;
constexpr std::uint32_t ecx_hypervisor = 1u << 31;
constexpr std::uint32_t leaf_extended_max = 0x80000000;
constexpr std::uint32_t leaf_extended_ids = 0x80000008;
constexpr std::uint32_t ebx_invlpgb = 1u << 3;
// Hypervisors announce themselves at 0x40000000; one that also offers
// another's interface (KVM or Xen with Hyper-V's) moves its own to 0x40000100.
constexpr std::uint32_t hypervisor_bases[] = {0x40000000, 0x40000100};
constexpr std::uint32_t kvm_features = 1;               // base + 1, EAX
constexpr std::uint32_t kvm_pv_tlb_flush = 1u << 9;     // KVM_FEATURE_PV_TLB_FLUSH
constexpr std::uint32_t kvm_hints_realtime = 1u << 0;   // EDX: Linux then sends IPIs
constexpr std::uint32_t hyperv_hints = 4;               // base + 4, EAX
constexpr std::uint32_t hyperv_remote_flush = 1u << 2;  // remote TLB flush recommended

struct cpuid_result {
  bool ok = false;
  std::uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

cpuid_result cpuid(std::uint32_t leaf) noexcept {
  std::uint32_t regs[4] = {};
  cpuid_result r;
  r.ok = os.cpuid(leaf, 0, regs);
  r.eax = regs[0];
  r.ebx = regs[1];
  r.ecx = regs[2];
  r.edx = regs[3];
  return r;
}

// The 12-character vendor signature in EBX, ECX, EDX; trailing NULs and
// spaces dropped, anything unprintable shown as '?'.
void signature_of(const cpuid_result& r, char (&out)[13]) noexcept {
  const std::uint32_t words[3] = {r.ebx, r.ecx, r.edx};
  std::memcpy(out, words, 12);
  out[12] = '\0';
  for (char& c : out) {
    if (c != '\0' && (c < 0x20 || c > 0x7e)) c = '?';
  }
  for (int i = 11; i >= 0 && (out[i] == '\0' || out[i] == ' '); --i) out[i] = '\0';
  for (int i = 0; i < 12 && out[i] == '\0'; ++i) out[i] = '?';  // a NUL inside
}

void append(char* out, std::size_t cap, const char* text) noexcept {
  std::size_t used = std::strlen(out);
  std::snprintf(out + used, cap - used, "%s%s", used == 0 ? "" : ", ", text);
}

bool is(const char* signature, const char* name) noexcept {
  return std::strcmp(signature, name) == 0;
}

}  // namespace

tlb_flush_report read_tlb_facts() noexcept {
  tlb_flush_report t;
  cpuid_result basic = cpuid(0);
  if (!basic.ok) return t;
  t.cpuid = true;
  cpuid_result extended = cpuid(leaf_extended_max);
  if (extended.eax >= leaf_extended_ids && extended.eax <= leaf_extended_max + 0xffff) {
    t.invlpgb = (cpuid(leaf_extended_ids).ebx & ebx_invlpgb) != 0;
  }
  if (basic.eax >= leaf_features) t.hypervisor = (cpuid(leaf_features).ecx & ecx_hypervisor) != 0;
  if (!t.hypervisor) return t;
  for (std::uint32_t base : hypervisor_bases) {
    cpuid_result id = cpuid(base);
    char signature[13];
    signature_of(id, signature);
    if (signature[0] == '\0' || signature[0] == '?') continue;
    append(t.hypervisor_signature, sizeof t.hypervisor_signature, signature);
    // A maximum leaf of 0 from KVM means base + 1 (old KVM).
    const std::uint32_t max = id.eax == 0 ? base + 1 : id.eax;
    if (is(signature, "KVMKVMKVM") && max >= base + kvm_features) {
      cpuid_result features = cpuid(base + kvm_features);
      t.kvm_pv_tlb_flush =
          (features.eax & kvm_pv_tlb_flush) != 0 && (features.edx & kvm_hints_realtime) == 0;
    } else if (is(signature, "Microsoft Hv") && max >= base + hyperv_hints) {
      t.hyperv_remote_flush = (cpuid(base + hyperv_hints).eax & hyperv_remote_flush) != 0;
    }
  }
  return t;
}

bool shootdown_interrupts_every_cpu(const tlb_flush_report& t, reason_buffer& reason) noexcept {
  if (!x86) {
    reason.set("unsound on this architecture: TLB invalidation is broadcast without IPIs");
    return false;
  }
  if (!t.cpuid) {
    reason.set("CPUID did not answer, so INVLPGB cannot be ruled out");
    return false;
  }
  if (t.invlpgb) {
    reason.set(
        "the CPU has INVLPGB (CPUID 0x80000008 EBX bit 3): Linux >= 6.15 flushes by broadcast, "
        "interrupting no CPU");
    return false;
  }
  const char* hv = t.hypervisor_signature;
  if (std::strstr(hv, "XenVMMXenVMM") != nullptr) {
    reason.set(
        "Xen (CPUID 0x40000000 'XenVMMXenVMM') may flush other vCPUs by hypercall without "
        "interrupting them: not provably a barrier");
    reason.accept_if_forced = true;
    return false;
  }
  if (t.hyperv_remote_flush) {
    reason.set(
        "Hyper-V's remote TLB flush hypercall is recommended (CPUID 0x40000004 EAX bit 2); it "
        "may flush other vCPUs without interrupting them: not provably a barrier");
    reason.accept_if_forced = true;
    return false;
  }
  if (t.kvm_pv_tlb_flush) {
    reason.set(
        "no INVLPGB; KVM's paravirtual flush defers a preempted vCPU's flush to its re-entry, "
        "which is as good as an interrupt (docs/design.md)");
  } else if (t.hypervisor) {
    reason.set("no INVLPGB; the hypervisor (%s) leaves TLB flushes to IPIs",
               hv[0] == '\0' ? "unnamed" : hv);
  } else {
    reason.set("no INVLPGB and no hypervisor: TLB flushes interrupt every CPU");
  }
  return true;
}

}  // namespace asymfence::detail
