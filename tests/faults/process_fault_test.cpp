// SPDX-License-Identifier: Apache-2.0 OR MIT
// Faults injected into a fresh process by the kernel itself: a seccomp filter
// that denies membarrier(2) before start-up or while threads are inside
// heavy(), and strace's fault injection. fault_agent is the process; it
// prints facts that these tests parse.
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "child_process.hpp"
#include "emulator.hpp"
#include "evidence.hpp"
#include "fault_expectations.hpp"
#include "seccomp_deny.hpp"

namespace asymfence::test {
namespace {

const char* const agent_path = ASYMFENCE_FAULT_AGENT;
// Exit status of a child whose seccomp filter could not be installed.
constexpr int filter_refused = 126;

// seccomp filters and strace act on the system calls an emulator makes for
// the program, and the agent cannot be started without the emulator.
#define SKIP_UNDER_EMULATOR() \
  ASYMFENCE_SKIP_UNDER_EMULATOR("faults are injected into a natively started process")

struct agent_run {
  child_result result;
  facts found;
};

agent_run run_agent(const std::vector<std::string>& commands,
                    const std::function<void()>& before_exec = {}) {
  agent_run run;
  run.result = run_program(agent_path, commands, {}, before_exec, agent_timeout_seconds);
  run.found = parse_facts(run.result.output);
  return run;
}

// `commands`, then those that gather the evidence that heavy() is sound and
// really ran.
std::vector<std::string> with_evidence(std::vector<std::string> commands) {
  commands.insert(commands.end(), {"stats", "litmus=" + std::to_string(litmus_iterations),
                                   "ipi=" + std::to_string(ipi_heavy_calls), "counts"});
  return commands;
}

void expect_evidence(const facts& f) {
  expect_sound_litmus(litmus_evidence::from_facts(f));
  expect_ipis(ipi_evidence::from_facts(f));
}

// membarrier(2) is denied before the agent starts: selection must see the
// denial and choose the next sound mechanism.
void expect_fallback_when_denied_at_startup(int error) {
  SKIP_UNDER_EMULATOR();
  const std::string errno_text = errno_label(error);
  const bool mprotect_expected = mprotect_trick_expected();
  agent_run run = run_agent(
      mprotect_expected ? with_evidence({"selection"}) : std::vector<std::string>{"selection"},
      [error] {
        if (!deny_membarrier(error)) ::_exit(filter_refused);
      });
  const facts& f = run.found;
  ASSERT_FALSE(run.result.exited && run.result.code == filter_refused)
      << "the seccomp filter could not be installed";
  ASSERT_TRUE(run.result.exited && run.result.code == 0)
      << "agent failed (exit " << run.result.code << ", signal " << run.result.signal
      << "):\n" << run.result.output;
  ASSERT_EQ(fact(f, "membarrier_query_error"), errno_text)
      << "the seccomp filter did not make QUERY fail (does it apply here?):\n"
      << run.result.output;
  EXPECT_TRUE(contains(fact(f, "reason.membarrier_private_expedited"), errno_text))
      << fact(f, "reason.membarrier_private_expedited");
  EXPECT_EQ(fact(f, "usable.membarrier_global"), "0") << "GLOBAL is denied by the same filter";
  if (!mprotect_expected) {
    EXPECT_EQ(fact(f, "selected"), to_string(strategy_without_asymmetric_mechanism()));
    return;
  }
  EXPECT_EQ(fact(f, "selected"), "mprotect") << run.result.output;
  EXPECT_EQ(fact(f, "active"), "mprotect");
  EXPECT_GT(number_fact(f, "calls.mprotect"), 0) << "heavy() made no mprotect call";
  EXPECT_EQ(number_fact(f, "calls.membarrier_private_expedited"), 0);
  expect_evidence(f);
}

TEST(FaultSeccomp, DeniedWithEnosysBeforeStartupFallsBackToMprotect) {
  expect_fallback_when_denied_at_startup(ENOSYS);
}

TEST(FaultSeccomp, DeniedWithEpermBeforeStartupFallsBackToMprotect) {
  expect_fallback_when_denied_at_startup(EPERM);
}

// membarrier(2) starts failing while eight threads are inside heavy(): the
// leader of the barrier in flight must move to the next sound mechanism (or
// stop the process where none is left), never continue as a plain fence.
void expect_switch_when_denied_in_heavy(int error) {
  SKIP_UNDER_EMULATOR();
  const std::string errno_text = errno_label(error);
  const bool switch_expected = mprotect_trick_expected();
  agent_run run = run_agent(with_evidence({"selection", "deny=" + errno_text}));
  const facts& f = run.found;
  const std::string& out = run.result.output;
  if (!switch_expected) {
    // GLOBAL, the only other candidate, is denied by the same filter.
    ASSERT_TRUE(run.result.signaled && run.result.signal == SIGABRT)
        << "expected the documented stop (no sound mechanism left):\n" << out;
    EXPECT_TRUE(contains(out, "no other sound strategy is left")) << out;
    EXPECT_TRUE(contains(out, errno_text)) << out;
    EXPECT_TRUE(contains(out, "Remedy:")) << out;
    return;
  }
  ASSERT_TRUE(run.result.exited && run.result.code == 0)
      << "expected heavy() to switch to mprotect and go on; the agent ended with exit "
      << run.result.code << ", signal " << run.result.signal << ":\n" << out;
  ASSERT_EQ(fact(f, "selected"), "membarrier_private_expedited")
      << "the fault needs it at start-up";
  ASSERT_EQ(fact(f, "deny_installed"), "1") << out;
  ASSERT_EQ(fact(f, "denied_query_error"), errno_text) << "the filter is not in force:\n" << out;
  EXPECT_GT(number_fact(f, "calls_after_denial"), 0) << "no heavy() call completed after denial";
  EXPECT_EQ(fact(f, "active"), "mprotect");
  EXPECT_GE(number_fact(f, "strategy_switches"), 1);
  EXPECT_TRUE(contains(out, "membarrier_private_expedited failed with " + errno_text)) << out;
  EXPECT_TRUE(contains(out, "heavy barriers now use mprotect")) << out;
  EXPECT_GT(number_fact(f, "calls.mprotect"), 0) << "heavy() made no mprotect call";
  expect_evidence(f);
}

TEST(FaultSeccomp, DeniedWithEpermWhileEightThreadsInHeavySwitchesToMprotect) {
  expect_switch_when_denied_in_heavy(EPERM);
}

TEST(FaultSeccomp, DeniedWithEnosysWhileEightThreadsInHeavySwitchesToMprotect) {
  expect_switch_when_denied_in_heavy(ENOSYS);
}

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path == nullptr ? "/usr/bin:/bin" : path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string read_text(const std::string& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct strace_run {
  agent_run agent;
  std::string log;  // what strace wrote about membarrier calls
};

// Runs the agent under strace, with every membarrier call traced (and only
// those stopped, thanks to --seccomp-bpf) and `inject` applied.
strace_run run_agent_under_strace(const std::string& strace, const std::string& inject,
                                  const std::vector<std::string>& commands) {
  const std::string log = ::testing::TempDir() + "asymfence_strace_" +
                          std::to_string(::getpid()) + ".log";
  std::vector<std::string> args = {"-f", "--seccomp-bpf", "-e", "trace=membarrier", "-e",
                                   "inject=membarrier:" + inject, "-o", log, agent_path};
  args.insert(args.end(), commands.begin(), commands.end());
  // LeakSanitizer cannot run under ptrace: in an ASan build, the agent would
  // fail at exit. Its other checks stay on.
  const char* asan_options = std::getenv("ASAN_OPTIONS");
  const std::string no_leak_check = std::string("ASAN_OPTIONS=") +
                                    (asan_options == nullptr ? "" : asan_options) +
                                    ":detect_leaks=0";
  strace_run run;
  run.agent.result = run_program(strace, args, {no_leak_check}, {}, agent_timeout_seconds);
  run.agent.found = parse_facts(run.agent.result.output);
  run.log = read_text(log);
  std::remove(log.c_str());
  return run;
}

// A kernel whose QUERY answers 0 (membarrier exists but offers nothing):
// strace makes every membarrier call return 0 without entering the kernel.
TEST(FaultStrace, QueryAnswersZeroSelectsMprotect) {
  SKIP_UNDER_EMULATOR();
  const std::string strace = find_in_path("strace");
  if (strace.empty()) GTEST_SKIP() << "strace is not installed (Debian package strace)";
  strace_run run =
      run_agent_under_strace(strace, "retval=0:when=1+", with_evidence({"selection"}));
  const facts& f = run.agent.found;
  ASSERT_TRUE(run.agent.result.exited && run.agent.result.code == 0) << run.agent.result.output;
  ASSERT_TRUE(contains(run.log, "MEMBARRIER_CMD_QUERY, 0) = 0 (INJECTED)"))
      << "strace injected nothing:\n" << run.log;
  EXPECT_EQ(fact(f, "membarrier_query"), "0");
  EXPECT_EQ(fact(f, "usable.membarrier_private_expedited"), "0");
  EXPECT_EQ(fact(f, "usable.membarrier_global"), "0");
  // A faked 0 from any other command would make heavy() a no-op: the library
  // must never issue one after QUERY offered nothing.
  for (const char* command : {"REGISTER_PRIVATE_EXPEDITED", "CMD_PRIVATE_EXPEDITED,",
                              "CMD_GLOBAL,"}) {
    EXPECT_FALSE(contains(run.log, command)) << command << " was called:\n" << run.log;
  }
  if (!mprotect_trick_expected()) {
    EXPECT_EQ(fact(f, "selected"), to_string(strategy_without_asymmetric_mechanism()));
    return;
  }
  EXPECT_EQ(fact(f, "selected"), "mprotect");
  EXPECT_GT(number_fact(f, "calls.mprotect"), 0) << "heavy() made no mprotect call";
  expect_evidence(f);
}

// Only the first QUERY answers 0 (strace's when=1): selection must decide on
// the answer it reports. Querying again for each candidate lets the report
// say "QUERY answered 0" while PRIVATE_EXPEDITED is selected on a second,
// different answer.
TEST(FaultStrace, SelectionDecidesOnTheQueryAnswerItReports) {
  SKIP_UNDER_EMULATOR();
  const std::string strace = find_in_path("strace");
  if (strace.empty()) GTEST_SKIP() << "strace is not installed (Debian package strace)";
  strace_run run = run_agent_under_strace(strace, "retval=0:when=1", {"selection"});
  const facts& f = run.agent.found;
  ASSERT_TRUE(run.agent.result.exited && run.agent.result.code == 0) << run.agent.result.output;
  ASSERT_TRUE(contains(run.log, "(INJECTED)")) << "strace injected nothing:\n" << run.log;
  EXPECT_EQ(fact(f, "membarrier_query"), "0");
  EXPECT_NE(fact(f, "selected"), "membarrier_private_expedited")
      << "the report says QUERY answered 0, yet PRIVATE_EXPEDITED was selected; strace saw:\n"
      << run.log;
}

// A burst of twelve ENOMEM answers (strace's when=3..14: the calls after the
// load-time QUERY and REGISTER) is transient memory pressure, not a broken
// mechanism: heavy() waits it out and keeps PRIVATE_EXPEDITED.
TEST(FaultStrace, BurstOfTwelveEnomemAnswersIsWaitedOutWithoutASwitch) {
  SKIP_UNDER_EMULATOR();
  const std::string strace = find_in_path("strace");
  if (strace.empty()) GTEST_SKIP() << "strace is not installed (Debian package strace)";
  strace_run run = run_agent_under_strace(strace, "error=ENOMEM:when=3..14",
                                          {"selection", "heavy=20", "stats", "counts"});
  const facts& f = run.agent.found;
  ASSERT_TRUE(run.agent.result.exited && run.agent.result.code == 0) << run.agent.result.output;
  if (fact(f, "selected") != "membarrier_private_expedited") {
    GTEST_SKIP() << "PRIVATE_EXPEDITED is not selected here: " << fact(f, "selected");
  }
  int injected = 0;
  for (std::size_t at = run.log.find("(INJECTED)"); at != std::string::npos;
       at = run.log.find("(INJECTED)", at + 1)) {
    ++injected;
  }
  std::printf("[ burst    ] %d answers injected; active %s, %s retries, %s switches\n", injected,
              fact(f, "active").c_str(), fact(f, "transient_retries").c_str(),
              fact(f, "strategy_switches").c_str());
  ASSERT_GT(injected, 0) << "strace injected nothing:\n" << run.log;
  EXPECT_EQ(fact(f, "active"), "membarrier_private_expedited") << run.agent.result.output;
  EXPECT_EQ(fact(f, "strategy_switches"), "0");
  EXPECT_EQ(fact(f, "transient_retries"), "12");
  EXPECT_EQ(injected, 12) << "every answer of the burst reaches the library:\n" << run.log;
  EXPECT_EQ(number_fact(f, "calls.mprotect"), 0) << "heavy() used the mprotect trick";
}

// ASYMFENCE_STRATEGY is read with secure_getenv(): a program that runs with
// more privilege than the user who starts it (AT_SECURE; here its real uid is
// nobody's while its effective uid stays root, as in a setuid-root program
// that nobody starts) ignores it, so that the user cannot force the stop, or
// GLOBAL, on it. The control: the same program started without the privilege
// change obeys the variable (a name that is no strategy: selection refuses).
TEST(FaultEnvironment, PrivilegedProgramIgnoresTheStrategyOverride) {
  SKIP_UNDER_EMULATOR();
  if (geteuid() != 0) GTEST_SKIP() << "needs root, to start a program with AT_SECURE";
  const std::vector<std::string> forcing = {"ASYMFENCE_STRATEGY=bogus"};
  child_result plain = run_program(agent_path, {"selection"}, forcing, {}, agent_timeout_seconds);
  facts f = parse_facts(plain.output);
  std::printf("as started: at_secure=%s forced=%s selected=%s (%s)\n",
              fact(f, "at_secure").c_str(), fact(f, "forced").c_str(),
              fact(f, "selected").c_str(), fact(f, "selection_error").c_str());
  ASSERT_EQ(fact(f, "at_secure"), "0") << plain.output;
  EXPECT_EQ(fact(f, "forced"), "bogus");
  EXPECT_EQ(fact(f, "selected"), "none");
  EXPECT_EQ(fact(f, "selection_error"), "EINVAL");

  constexpr uid_t nobody = 65534;
  child_result privileged = run_program(
      agent_path, {"selection"}, forcing,
      [] {
        if (setresuid(nobody, 0, 0) != 0) _exit(filter_refused);
      },
      agent_timeout_seconds);
  ASSERT_FALSE(privileged.exited && privileged.code == filter_refused) << "setresuid failed";
  f = parse_facts(privileged.output);
  std::printf("with AT_SECURE: at_secure=%s forced=%s selected=%s\n",
              fact(f, "at_secure").c_str(), fact(f, "forced").c_str(),
              fact(f, "selected").c_str());
  ASSERT_EQ(fact(f, "at_secure"), "1") << privileged.output;
  EXPECT_EQ(fact(f, "forced"), "(no)") << "the privileged program obeyed ASYMFENCE_STRATEGY";
  EXPECT_NE(fact(f, "selected"), "none") << privileged.output;
  EXPECT_EQ(fact(f, "selection_error"), errno_label(0));
}

}  // namespace
}  // namespace asymfence::test
