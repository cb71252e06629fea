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
// /proc/cpuinfo of an x86 CPU without and with broadcast TLB invalidation.
const char* const cpuinfo_without_invlpgb =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 invpcid\n\n";
const char* const cpuinfo_with_invlpgb =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 invlpgb invpcid\n\n";

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
  faults().cpuinfo = cpuinfo_with_invlpgb;
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
  faults().cpuinfo = cpuinfo_with_invlpgb;
  ASSERT_EQ(reselect().selected, strategy::membarrier_global);
  faults().global.always(EINVAL);
  expect_heavy_stops({"membarrier_global returned EINVAL", "no other sound strategy is left",
                      "Remedy:", "nohz_full"});
}

TEST_F(FaultSeam, UnreadableCpuinfoRulesOutMprotect) {
  if (!mprotect_trick_expected()) GTEST_SKIP() << "the mprotect trick is never usable here";
  faults().query_answer = 0;
  faults().cpuinfo = cpuinfo_without_invlpgb;
  ASSERT_EQ(reselect().selected, strategy::mprotect) << "the control: readable, no INVLPGB";

  faults().read_file.always(EACCES);
  init_result r = reselect();
  EXPECT_EQ(r.selected, strategy_without_asymmetric_mechanism());
  expect_reason(strategy::mprotect, "/proc/cpuinfo is unreadable (EACCES)");
}

TEST_F(FaultSeam, CpuinfoShowingInvlpgbRulesOutMprotect) {
  if (!mprotect_trick_expected()) GTEST_SKIP() << "the mprotect trick is never usable here";
  faults().query_answer = 0;
  faults().cpuinfo = cpuinfo_without_invlpgb;
  ASSERT_EQ(reselect().selected, strategy::mprotect) << "the control: no INVLPGB";

  faults().cpuinfo = cpuinfo_with_invlpgb;
  init_result r = reselect();
  EXPECT_EQ(r.selected, strategy_without_asymmetric_mechanism());
  expect_reason(strategy::mprotect, "INVLPGB");
}

// Why mprotect is out without /proc: beyond x86 the architecture rules it out
// before /proc/cpuinfo is read.
#if defined(__x86_64__) || defined(__i386__)
constexpr const char* mprotect_reason_without_proc = "/proc/cpuinfo is unreadable (ENOENT)";
#else
constexpr const char* mprotect_reason_without_proc = "unsound on this architecture";
#endif

// Without /proc, the mprotect trick cannot rule out INVLPGB; PRIVATE_EXPEDITED
// does not need /proc, and GLOBAL takes over when PRIVATE_EXPEDITED is gone.
TEST_F(FaultSeam, ProcNotMountedStillSelectsASoundStrategy) {
  faults().read_file.always(ENOENT);
  EXPECT_EQ(reselect().selected, strategy::membarrier_private_expedited);
  expect_reason(strategy::mprotect, mprotect_reason_without_proc);

  faults().register_private_expedited.always(EPERM);
  ASSERT_EQ(reselect().selected, strategy::membarrier_global);
  constexpr int calls = 3;
  for (int i = 0; i < calls; ++i) heavy();
  EXPECT_GE(counts().membarrier_global.load(), std::uint64_t{calls})
      << "heavy() did not issue GLOBAL";
}

// Without /proc and without membarrier, no sound strategy exists: init()
// says so with the errno and a remedy, and heavy() stops the process.
TEST_F(FaultSeam, ProcNotMountedAndNoMembarrierReportsTheError) {
  faults().read_file.always(ENOENT);
  faults().query.always(ENOSYS);
  init_result r = reselect();
  ASSERT_EQ(r.selected, strategy_without_asymmetric_mechanism()) << r.message;
  if (r.selected != strategy::none) return;  // the checked build falls back to fences
  EXPECT_EQ(r.error, ENOSYS);
  for (const char* part : {"no sound heavy barrier exists here", "ENOSYS",
                           mprotect_reason_without_proc, "Remedy:"}) {
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
