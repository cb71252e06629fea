// SPDX-License-Identifier: Apache-2.0 OR MIT
// Assertions shared by the fault tests: what "heavy() is still sound" and
// "the fallback really ran" mean, and which strategy this machine should
// fall back to, reckoned independently of the library.
#ifndef ASYMFENCE_TESTS_FAULTS_FAULT_EXPECTATIONS_HPP
#define ASYMFENCE_TESTS_FAULTS_FAULT_EXPECTATIONS_HPP

#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "evidence.hpp"

namespace asymfence::test {

// Whether the mprotect trick should be usable here: x86 Linux, a CPU without
// INVLPGB (Linux >= 6.15 flushes with it, without IPIs) and no hypervisor
// whose paravirtual flush the library refuses (Xen; Hyper-V recommending its
// flush hypercall). Asked of the CPU directly, not through the library.
inline bool mprotect_trick_expected() {
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
  unsigned a = 0, b = 0, c = 0, d = 0;
  __cpuid(0x80000000, a, b, c, d);
  if (a >= 0x80000008) {
    __cpuid_count(0x80000008, 0, a, b, c, d);
    if ((b & (1u << 3)) != 0) return false;
  }
  __cpuid(1, a, b, c, d);
  if ((c & (1u << 31)) == 0) return true;
  for (unsigned base : {0x40000000u, 0x40000100u}) {
    __cpuid(base, a, b, c, d);
    const unsigned words[3] = {b, c, d};
    const std::string signature(reinterpret_cast<const char*>(words), 12);
    if (signature == "XenVMMXenVMM") return false;
    if (signature == "Microsoft Hv" && a >= base + 4) {
      __cpuid(base + 4, a, b, c, d);
      if ((a & (1u << 2)) != 0) return false;
    }
  }
  return true;
#else
  return false;
#endif
}

// What selection must answer when no asymmetric mechanism is usable: the
// fence where this build's light() fences too (checked light), else none.
inline strategy strategy_without_asymmetric_mechanism() {
  return selection().light_fences ? strategy::fence : strategy::none;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// light() against heavy() gave no forbidden outcome, while the control
// (light() against a plain fence) did, so the litmus could have caught a
// barrier that does nothing.
inline void expect_sound_litmus(const litmus_evidence& e) {
  if (!e.skipped.empty()) {
    std::printf("litmus not run: %s\n", e.skipped.c_str());
    return;
  }
  std::printf("litmus: %llu rounds, %llu forbidden; control: %llu rounds, %llu forbidden\n",
              static_cast<unsigned long long>(e.iterations),
              static_cast<unsigned long long>(e.forbidden),
              static_cast<unsigned long long>(e.control_iterations),
              static_cast<unsigned long long>(e.control_forbidden));
  EXPECT_GE(e.iterations, litmus_minimum_iterations);
  EXPECT_EQ(e.forbidden, 0u) << "light() against heavy() showed the forbidden outcome";
  EXPECT_GT(e.control_forbidden, 0u)
      << "the control (light() against a plain seq_cst fence) showed no forbidden outcome in "
      << e.control_iterations << " rounds, so the litmus cannot tell a barrier from none here";
}

// The CPU that runs a spinning thread received about one function-call
// interrupt per heavy() call (at least half as many), and far fewer over as
// long a time without heavy() calls.
inline void expect_ipis(const ipi_evidence& e) {
  if (!e.skipped.empty()) {
    std::printf("interrupts not counted: %s\n", e.skipped.c_str());
    return;
  }
  std::printf("interrupts on the spinning CPU: %llu during %llu heavy() calls, %llu without "
              "(%llu attempt(s), real-time spinner: %s)\n",
              static_cast<unsigned long long>(e.with_heavy),
              static_cast<unsigned long long>(e.heavy_calls),
              static_cast<unsigned long long>(e.without_heavy),
              static_cast<unsigned long long>(e.attempts), e.spinner_realtime ? "yes" : "no");
  EXPECT_GE(2 * e.with_heavy, e.heavy_calls)
      << "heavy() did not interrupt the CPU running a spinning thread of the process";
  EXPECT_LT(4 * e.without_heavy, e.heavy_calls)
      << "the spinning CPU receives as many interrupts without heavy(): the count proves nothing";
}

// The interrupt check, in this process with the strategy in force.
inline void expect_heavy_interrupts_in_this_process() {
  expect_ipis(measure_ipis(ipi_heavy_calls));
}

}  // namespace asymfence::test

#endif
