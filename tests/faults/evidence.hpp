// SPDX-License-Identifier: Apache-2.0 OR MIT
// What a fault test must see before it believes that heavy() is still a
// process-wide barrier: the store-buffering litmus with its control, and the
// function-call interrupts that a CPU running a spinning thread receives.
// Measured in-process by the seam tests, and by fault_agent, which prints
// them as "key=value" facts for the tests that start it under seccomp or
// strace.
#ifndef ASYMFENCE_TESTS_FAULTS_EVIDENCE_HPP
#define ASYMFENCE_TESTS_FAULTS_EVIDENCE_HPP

#include <cstdint>
#include <map>
#include <string>

namespace asymfence::test {

// Rounds of light() against heavy(): a million where time allows, never fewer
// than the minimum.
inline constexpr std::uint64_t litmus_iterations = 1000000;
inline constexpr std::uint64_t litmus_minimum_iterations = 200000;
inline constexpr double litmus_time_limit_seconds = 15;
// How long a busy machine may take to reach the minimum after that.
inline constexpr double litmus_patience_seconds = 300;
// How long a test waits for fault_agent: the litmus (above), its control (at
// most 10 runs of 15 s) and the rest.
inline constexpr int agent_timeout_seconds = 540;
// heavy() calls while a thread spins on the other CPU.
inline constexpr std::uint64_t ipi_heavy_calls = 2000;

// One fact per key, as fault_agent prints them ("strategy=mprotect").
using facts = std::map<std::string, std::string>;

// Collects the "key=value" lines of a program's output; other lines (the
// library's warnings) are ignored.
facts parse_facts(const std::string& output);

// The fact's value; "(missing)" when the output did not state it.
std::string fact(const facts& f, const std::string& key);

// The fact's value as a number; -1 when it is missing.
std::int64_t number_fact(const facts& f, const std::string& key);

// Writes each fact as one line on stdout.
void print_facts(const facts& f);

// "EPERM", "ENOSYS", ... for the errnos the fault tests inject; the number
// otherwise. errno_from_label accepts either form; -1 when it is neither.
std::string errno_label(int error);
int errno_from_label(const std::string& label);

struct litmus_evidence {
  std::uint64_t iterations = 0;          // light() against heavy()
  std::uint64_t forbidden = 0;           // must be 0
  std::uint64_t control_iterations = 0;  // light() against a plain seq_cst fence, all attempts
  std::uint64_t control_forbidden = 0;   // must be above 0, or the test proves nothing
  std::string skipped;                   // why the litmus cannot show anything here

  facts to_facts() const;
  static litmus_evidence from_facts(const facts& f);
};

// Runs `iterations` rounds of light() against heavy(), stopping after
// time_limit_seconds but not before minimum_iterations (unless
// litmus_patience_seconds more pass); then the control
// (light() against a plain fence, minimum_iterations rounds), retried a few
// times until it shows forbidden outcomes.
litmus_evidence measure_litmus(std::uint64_t iterations, std::uint64_t minimum_iterations,
                               double time_limit_seconds);

struct ipi_evidence {
  std::uint64_t heavy_calls = 0;    // heavy() calls made while a thread spun on the other CPU
  std::uint64_t with_heavy = 0;     // function-call interrupts that CPU received meanwhile
  std::uint64_t without_heavy = 0;  // the same, over as long a time without heavy() calls
  std::uint64_t attempts = 0;       // measurements made (a busy machine can preempt the spinner)
  std::uint64_t spinner_realtime = 0;  // 1 when the spinner ran with real-time priority
  std::string skipped;              // why interrupts cannot be counted here

  facts to_facts() const;
  static ipi_evidence from_facts(const facts& f);
};

// Pins a thread that spins to one CPU and a caller to another, and counts
// the "CAL" interrupts (/proc/interrupts) of the spinning CPU during
// `heavy_calls` calls of heavy(), then during as long an idle period. A
// process-wide barrier interrupts a CPU running one of the process's threads
// once per call. The spinner runs at real-time priority where allowed; as it
// may still be preempted on a shared machine, the measurement is repeated
// (up to a few times) until the interrupts reach half the calls, and the
// best attempt is returned.
ipi_evidence measure_ipis(std::uint64_t heavy_calls);

}  // namespace asymfence::test

#endif
