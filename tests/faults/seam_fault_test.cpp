// SPDX-License-Identifier: Apache-2.0 OR MIT
// Faults of kernels and machines we do not have, injected through the
// library's system-call seam: selection runs again (as in a fresh process)
// over a kernel with faults, and heavy() meets faults at run time. Where a
// real mechanism ends up in force, the seam's call counts and the interrupts
// a spinning CPU receives prove that it really ran (the store-buffering
// litmus of each mechanism runs in process_fault_test.cpp, under real
// seccomp and strace faults). Expected stops run in a child process.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "fake_kernel.hpp"
#include "fault_expectations.hpp"
#include "seam_counter.hpp"
#include "testing.hpp"

namespace asymfence::test {
namespace {

// What membarrier's QUERY answers on a machine like ours, and on a nohz_full
// one (where GLOBAL is masked out).
constexpr long query_everything = 0x3ff;
constexpr long query_nohz_full = query_everything & ~0x1L;
// CPUs as CPUID describes them: bare metal without and with broadcast TLB
// invalidation, and guests of the hypervisors the rule tells apart.
fake_cpu bare_metal() { return {}; }
fake_cpu with_invlpgb() {
  fake_cpu c;
  c.invlpgb = true;
  return c;
}
fake_cpu guest_of(const char* signature) {
  fake_cpu c;
  c.hypervisor = signature;
  return c;
}

#if defined(__x86_64__) || defined(__i386__)
constexpr bool x86 = true;
#else
constexpr bool x86 = false;
#endif

constexpr int transient_errors[] = {EINTR, ENOMEM, EAGAIN};

class FaultSeam : public ::testing::Test {
 protected:
  void SetUp() override { install_fake_kernel(); }
  void TearDown() override {
    remove_fake_kernel();
    detail::reselect_for_testing();
  }

  // Selects again, as a fresh process would, over the faults set so far.
  static init_result reselect() {
    counts().reset();
    return detail::reselect_for_testing();
  }

  // The same with ASYMFENCE_STRATEGY forcing `name`, as an operator would.
  static init_result reselect_forcing(const char* name) {
    setenv("ASYMFENCE_STRATEGY", name, 1);
    init_result r = reselect();
    unsetenv("ASYMFENCE_STRATEGY");
    return r;
  }

  // The strategy selection should fall back to when PRIVATE_EXPEDITED is
  // gone and the real QUERY answer stands: the mprotect trick where it is
  // sound, else GLOBAL.
  static strategy fallback_from_private_expedited() {
    return mprotect_trick_expected() ? strategy::mprotect : strategy::membarrier_global;
  }

  // The fallback really runs: heavy() calls reach its system call, and (for
  // the mprotect trick) interrupt a CPU running a spinning thread. GLOBAL
  // sends no interrupt: it waits for an RCU grace period.
  static void expect_fallback_runs() {
    counts().reset();
    if (fallback_from_private_expedited() == strategy::mprotect) {
      expect_heavy_interrupts_in_this_process();
      EXPECT_GT(counts().mprotect.load(), 0u) << "heavy() made no mprotect call";
    } else {
      heavy();
      EXPECT_GT(counts().membarrier_global.load(), 0u) << "heavy() did not issue GLOBAL";
    }
    EXPECT_EQ(counts().membarrier_private_expedited.load(), 0u);
  }
};

candidate_report candidate(strategy id) {
  selection_report report = selection();
  for (const candidate_report& c : report.candidates) {
    if (c.id == id) return c;
  }
  return {};
}

// Selection found `id` unusable, for a reason that mentions `part`.
void expect_reason(strategy id, const std::string& part) {
  candidate_report c = candidate(id);
  EXPECT_FALSE(c.usable) << to_string(id) << " should not be usable";
  EXPECT_TRUE(contains(c.reason, part)) << to_string(id) << ": '" << c.reason << "' lacks '"
                                        << part << "'";
}

// Runs heavy() in a child process, where it must stop with SIGABRT and a
// message containing every one of `parts`.
void expect_heavy_stops(const std::vector<std::string>& parts) {
  child_result r = run_in_child([] {
    heavy();
    return 0;
  });
  ASSERT_TRUE(r.signaled && r.signal == SIGABRT)
      << "heavy() did not stop the process (exit " << r.code << "):\n" << r.output;
  for (const std::string& part : parts) EXPECT_TRUE(contains(r.output, part)) << r.output;
}

TEST_F(FaultSeam, QueryAnsweringZeroSelectsMprotect) {
  faults().query_answer = 0;
  init_result r = reselect();
  expect_reason(strategy::membarrier_private_expedited, "answered 0x0");
  expect_reason(strategy::membarrier_global, "answered 0x0");
  if (!mprotect_trick_expected()) {
    EXPECT_EQ(r.selected, strategy_without_asymmetric_mechanism());
    return;
  }
  ASSERT_EQ(r.selected, strategy::mprotect) << r.message;
  expect_heavy_interrupts_in_this_process();
  EXPECT_GT(counts().mprotect.load(), 0u) << "heavy() made no mprotect call";
  EXPECT_EQ(counts().membarrier_private_expedited.load(), 0u);
  EXPECT_EQ(counts().membarrier_register.load(), 0u);
}

TEST_F(FaultSeam, FailedRegistrationSelectsTheNextSoundStrategy) {
  for (int error : {EPERM, EINVAL}) {
    SCOPED_TRACE(errno_label(error));
    faults().register_private_expedited.always(error);
    init_result r = reselect();
    EXPECT_EQ(r.selected, fallback_from_private_expedited()) << r.message;
    expect_reason(strategy::membarrier_private_expedited,
                  "REGISTER_PRIVATE_EXPEDITED failed: " + errno_label(error));
    EXPECT_GE(counts().membarrier_register.load(), 1u);
  }
  expect_fallback_runs();
}

// A registration lost at run time (as after a CRIU restore): PRIVATE_EXPEDITED
// answers EPERM once; heavy() registers again and goes on with it.
TEST_F(FaultSeam, LostRegistrationIsRedoneAndCounted) {
  ASSERT_EQ(reselect().selected, strategy::membarrier_private_expedited);
  faults().private_expedited.times(EPERM, 1);
  statistics before = stats();
  heavy();
  statistics after = stats();
  EXPECT_GE(after.reregistrations - before.reregistrations, 1u);
  EXPECT_EQ(after.strategy_switches, before.strategy_switches);
  EXPECT_GE(counts().membarrier_register.load(), 1u);
  EXPECT_EQ(active_strategy(), strategy::membarrier_private_expedited);
  counts().reset();
  heavy();  // the interrupt count below makes no call under an emulator
  expect_heavy_interrupts_in_this_process();
  EXPECT_GT(counts().membarrier_private_expedited.load(), 0u);
}

// The registration cannot be redone (a sandbox now denies membarrier):
// heavy() moves on to the next sound strategy.
TEST_F(FaultSeam, LostRegistrationThatCannotBeRedoneSwitchesStrategy) {
  ASSERT_EQ(reselect().selected, strategy::membarrier_private_expedited);
  faults().private_expedited.always(EPERM);
  faults().register_private_expedited.always(EPERM);
  statistics before = stats();
  heavy();
  statistics after = stats();
  EXPECT_EQ(after.reregistrations, before.reregistrations);
  EXPECT_EQ(after.strategy_switches - before.strategy_switches, 1u);
  EXPECT_EQ(active_strategy(), fallback_from_private_expedited());
}

// `failures` transient errors in a row, then success: heavy() waits them out
// with no switch, counting every retry.
void expect_transient_errors_waited_out(int failures) {
  for (int error : transient_errors) {
    SCOPED_TRACE(errno_label(error));
    counts().reset();
    ASSERT_EQ(detail::reselect_for_testing().selected, strategy::membarrier_private_expedited);
    faults().private_expedited.times(error, failures);
    statistics before = stats();
    heavy();
    statistics after = stats();
    std::printf(
        "[ retries  ] %s x %d: %llu retries, %llu switches\n", errno_label(error).c_str(), failures,
        static_cast<unsigned long long>(after.transient_retries - before.transient_retries),
        static_cast<unsigned long long>(after.strategy_switches - before.strategy_switches));
    EXPECT_EQ(after.transient_retries - before.transient_retries,
              static_cast<std::uint64_t>(failures));
    EXPECT_EQ(after.strategy_switches, before.strategy_switches);
    EXPECT_EQ(counts().membarrier_private_expedited.load(),
              static_cast<std::uint64_t>(failures) + 1);
    EXPECT_EQ(active_strategy(), strategy::membarrier_private_expedited);
  }
}

TEST_F(FaultSeam, TransientErrorsAreRetried) { expect_transient_errors_waited_out(3); }

// A burst as long as strace's when=3..14 (twelve answers in a row, as under
// memory pressure) is waited out too.
TEST_F(FaultSeam, TwelveTransientErrorsInARowAreWaitedOut) {
  expect_transient_errors_waited_out(12);
}

// A transient error that never clears is a failure of the mechanism once the
// backoff is spent (docs/design.md, section 6: more than twelve retries,
// bounded in time).
TEST_F(FaultSeam, PersistentTransientErrorsSwitchStrategyAfterBoundedRetries) {
  for (int error : transient_errors) {
    SCOPED_TRACE(errno_label(error));
    ASSERT_EQ(reselect().selected, strategy::membarrier_private_expedited);
    faults().private_expedited.always(error);
    statistics before = stats();
    heavy();
    statistics after = stats();
    std::uint64_t retries = after.transient_retries - before.transient_retries;
    std::printf(
        "[ retries  ] %s for ever: %llu retries, then %llu switch\n", errno_label(error).c_str(),
        static_cast<unsigned long long>(retries),
        static_cast<unsigned long long>(after.strategy_switches - before.strategy_switches));
    EXPECT_GT(retries, 12u);
    EXPECT_LE(retries, 32u) << "the backoff must be bounded";
    EXPECT_EQ(counts().membarrier_private_expedited.load(), retries + 1)
        << "every retry is one more call, and then no more";
    EXPECT_EQ(after.strategy_switches - before.strategy_switches, 1u);
    EXPECT_EQ(active_strategy(), fallback_from_private_expedited());
  }
  expect_fallback_runs();
}

// Registering again succeeds but the call still fails: the registration did
// not recover the call, so it is not counted as a re-registration.
TEST_F(FaultSeam, ReregistrationThatDoesNotRecoverTheCallIsNotCounted) {
  ASSERT_EQ(reselect().selected, strategy::membarrier_private_expedited);
  faults().private_expedited.always(EPERM);
  statistics before = stats();
  heavy();
  statistics after = stats();
  EXPECT_GE(counts().membarrier_register.load(), 1u) << "no registration was attempted";
  EXPECT_EQ(after.reregistrations, before.reregistrations);
  EXPECT_EQ(after.strategy_switches - before.strategy_switches, 1u);
}

// After a switch at run time, init() reports the strategy in force; the
// selection report keeps what selection chose.
TEST_F(FaultSeam, InitAfterARuntimeSwitchReportsTheStrategyInForce) {
  ASSERT_EQ(reselect().selected, strategy::membarrier_private_expedited);
  faults().private_expedited.always(EPERM);
  faults().register_private_expedited.always(EPERM);
  heavy();
  init_result r = init();
  std::printf("[ init     ] after the switch: init() %s, selection() %s, active %s\n",
              to_string(r.selected), to_string(selection().selected), to_string(active_strategy()));
  EXPECT_EQ(r.selected, fallback_from_private_expedited());
  EXPECT_EQ(r.selected, active_strategy());
  EXPECT_TRUE(r);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(selection().selected, strategy::membarrier_private_expedited);
}

// On nohz_full kernels QUERY does not offer GLOBAL and GLOBAL answers EINVAL:
// selection must not choose it, even when nothing else is left.
TEST_F(FaultSeam, GlobalMissingFromQueryIsNotSelected) {
  faults().register_private_expedited.always(EPERM);
  faults().fake(with_invlpgb());  // no mprotect
  faults().global.always(EINVAL);
  // The control: with GLOBAL offered, this machine would select it.
  faults().query_answer = query_everything;
  ASSERT_EQ(reselect().selected, strategy::membarrier_global);

  faults().query_answer = query_nohz_full;
  init_result r = reselect();
  expect_reason(strategy::membarrier_global, "lacks 0x1");
  EXPECT_EQ(r.selected, strategy_without_asymmetric_mechanism());
  if (r.selected == strategy::none) {
    EXPECT_EQ(r.error, ENOTSUP);
    EXPECT_TRUE(contains(r.message, "membarrier_global")) << r.message;
  }
  EXPECT_EQ(counts().membarrier_global.load(), 0u) << "GLOBAL was called";
}

// GLOBAL was offered at selection but answers EINVAL at run time, and nothing
// is left after it: the documented stop, naming the errno and the remedy.
TEST_F(FaultSeam, GlobalFailingWithEinvalAtRunTimeStops) {
  faults().register_private_expedited.always(EPERM);
  faults().fake(with_invlpgb());  // no mprotect
  ASSERT_EQ(reselect().selected, strategy::membarrier_global);
  faults().global.always(EINVAL);
  expect_heavy_stops({"membarrier_global returned EINVAL", "no other sound strategy is left",
                      "Remedy:", "nohz_full"});
}

// Whether this machine's /proc/cpuinfo lists "invlpgb" (no kernel prints it:
// the flag has no display name).
bool proc_cpuinfo_lists_invlpgb() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("flags", 0) == 0) return line.find(" invlpgb") != std::string::npos;
  }
  return false;
}

// INVLPGB is judged from CPUID 0x80000008 EBX bit 3, whatever /proc/cpuinfo
// says: here CPUID says INVLPGB while /proc/cpuinfo does not list it (as on
// every AMD Zen 3+ host with Linux >= 6.15).
TEST_F(FaultSeam, InvlpgbInCpuidRulesOutMprotect) {
  if (!x86) GTEST_SKIP() << "the mprotect trick is refused by architecture here";
  std::printf("/proc/cpuinfo lists invlpgb: %s\n", proc_cpuinfo_lists_invlpgb() ? "yes" : "no");
  faults().query_answer = 0;
  faults().fake(bare_metal());
  ASSERT_EQ(reselect().selected, strategy::mprotect) << "the control: a CPU without INVLPGB";
  EXPECT_FALSE(selection().tlb.invlpgb);

  faults().fake(with_invlpgb());
  init_result r = reselect();
  EXPECT_EQ(r.selected, strategy_without_asymmetric_mechanism()) << r.message;
  expect_reason(strategy::mprotect, "INVLPGB (CPUID 0x80000008 EBX bit 3)");
  EXPECT_TRUE(selection().tlb.invlpgb);
  EXPECT_FALSE(selection().tlb.interrupts_every_cpu);
  std::printf("mprotect: %s\n", candidate(strategy::mprotect).reason);

  // Not even when forced: the trick would order nothing on the other CPUs.
  r = reselect_forcing("mprotect");
  EXPECT_EQ(r.selected, strategy::none);
  EXPECT_TRUE(contains(r.message, "ASYMFENCE_STRATEGY=mprotect is refused")) << r.message;
  EXPECT_TRUE(contains(r.message, "INVLPGB")) << r.message;
}

// Xen and Hyper-V's recommended flush hypercall may flush other vCPUs without
// interrupting them: refused automatically (GLOBAL takes over), accepted when
// forced, with the reason as a warning.
TEST_F(FaultSeam, XenAndHyperVFlushHypercallRefuseMprotectUnlessForced) {
  if (!x86) GTEST_SKIP() << "the mprotect trick is refused by architecture here";
  fake_cpu hyperv_flush = guest_of("Microsoft Hv");
  hyperv_flush.hyperv_remote_flush = true;
  fake_cpu kvm_offering_hyperv_flush = hyperv_flush;
  kvm_offering_hyperv_flush.second_hypervisor = "KVMKVMKVM";
  struct refused_case {
    const char* name;
    fake_cpu cpu;
    const char* reason;
  };
  for (const refused_case& k : {refused_case{"Xen", guest_of("XenVMMXenVMM"), "Xen"},
                                refused_case{"Hyper-V", hyperv_flush, "0x40000004 EAX bit 2"},
                                refused_case{"KVM with Hyper-V's flush", kvm_offering_hyperv_flush,
                                             "0x40000004 EAX bit 2"}}) {
    SCOPED_TRACE(k.name);
    faults().register_private_expedited.always(EPERM);
    faults().fake(k.cpu);
    init_result r = reselect();
    EXPECT_EQ(r.selected, strategy::membarrier_global) << r.message;
    expect_reason(strategy::mprotect, k.reason);
    EXPECT_STREQ(selection().platform_warning, "");

    r = reselect_forcing("mprotect");
    ASSERT_EQ(r.selected, strategy::mprotect) << r.message;
    const selection_report report = selection();
    std::printf("%s, forced: %s\n", k.name, report.platform_warning);
    EXPECT_TRUE(contains(report.platform_warning, "ASYMFENCE_STRATEGY=mprotect is in force"))
        << report.platform_warning;
    EXPECT_TRUE(contains(report.platform_warning, k.reason)) << report.platform_warning;
    counts().reset();
    heavy();
    EXPECT_EQ(counts().mprotect.load(), 2u) << "heavy() did not use the forced trick";
  }
  // The control: Hyper-V without the recommendation leaves flushes to IPIs.
  faults().register_private_expedited.always(EPERM);
  faults().fake(guest_of("Microsoft Hv"));
  EXPECT_EQ(reselect().selected, strategy::mprotect) << selection().tlb.verdict;
}

// KVM's paravirtual flush defers a preempted vCPU's flush to its re-entry,
// which is as good as an interrupt (docs/design.md): the trick stays usable,
// and it still interrupts a CPU that runs a spinning thread.
TEST_F(FaultSeam, KvmParavirtualFlushKeepsMprotect) {
  if (!x86) GTEST_SKIP() << "the mprotect trick is refused by architecture here";
  fake_cpu kvm = guest_of("KVMKVMKVM");
  kvm.kvm_pv_tlb_flush = true;
  faults().fake(kvm);
  faults().query_answer = 0;
  init_result r = reselect();
  ASSERT_EQ(r.selected, strategy::mprotect) << r.message;
  const tlb_flush_report t = selection().tlb;
  std::printf("hypervisor '%s', KVM PV TLB flush %d: %s\n", t.hypervisor_signature,
              t.kvm_pv_tlb_flush, t.verdict);
  EXPECT_STREQ(t.hypervisor_signature, "KVMKVMKVM");
  EXPECT_TRUE(t.kvm_pv_tlb_flush);
  EXPECT_TRUE(t.interrupts_every_cpu);
  EXPECT_TRUE(contains(t.verdict, "KVM's paravirtual flush")) << t.verdict;
  EXPECT_STREQ(selection().platform_warning, "");
  expect_heavy_interrupts_in_this_process();
  EXPECT_GT(counts().mprotect.load(), 0u) << "heavy() made no mprotect call";
}

// On x86 a seam that cannot run CPUID leaves INVLPGB unknown: refused.
TEST_F(FaultSeam, UnansweredCpuidRulesOutMprotect) {
  if (!x86) GTEST_SKIP() << "the mprotect trick is refused by architecture here";
  fake_cpu none;
  none.no_cpuid = true;
  faults().fake(none);
  faults().query_answer = 0;
  EXPECT_EQ(reselect().selected, strategy_without_asymmetric_mechanism());
  expect_reason(strategy::mprotect, "CPUID did not answer, so INVLPGB cannot be ruled out");
}

// Why mprotect is out on a CPU with INVLPGB: beyond x86 the architecture
// rules it out before CPUID is asked.
constexpr const char* mprotect_reason_with_invlpgb =
    x86 ? "INVLPGB" : "unsound on this architecture";

// With INVLPGB and without membarrier, no sound strategy exists: init() says
// so with the errno and a remedy, and heavy() stops the process.
TEST_F(FaultSeam, InvlpgbAndNoMembarrierReportsTheError) {
  faults().fake(with_invlpgb());
  faults().query.always(ENOSYS);
  init_result r = reselect();
  ASSERT_EQ(r.selected, strategy_without_asymmetric_mechanism()) << r.message;
  if (r.selected != strategy::none) return;  // the checked build falls back to fences
  EXPECT_EQ(r.error, ENOSYS);
  for (const char* part :
       {"no sound heavy barrier exists here", "ENOSYS", mprotect_reason_with_invlpgb, "Remedy:"}) {
    EXPECT_TRUE(contains(r.message, part)) << "'" << r.message << "' lacks '" << part << "'";
  }
  expect_heavy_stops({"no sound strategy exists", "ENOSYS"});
}

// Every mechanism fails at run time, one after the other: heavy() tries each
// sound one in turn, then stops with the last errno and its remedy.
TEST_F(FaultSeam, EveryMechanismExhaustedAtRunTimeStops) {
  ASSERT_EQ(reselect().selected, strategy::membarrier_private_expedited);
  faults().private_expedited.always(EPERM);
  faults().register_private_expedited.always(EPERM);
  faults().mprotect.always(EACCES);
  faults().global.always(EPERM);
  std::vector<std::string> expected = {"heavy barriers now use membarrier_global",
                                       "membarrier_global returned EPERM",
                                       "no other sound strategy is left",
                                       "Remedy: membarrier(2) is denied"};
  if (mprotect_trick_expected()) {
    expected.push_back("membarrier_private_expedited failed with EPERM");
    expected.push_back("mprotect failed with EACCES");
  }
  expect_heavy_stops(expected);
}

}  // namespace
}  // namespace asymfence::test
