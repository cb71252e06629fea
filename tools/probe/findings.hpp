// SPDX-License-Identifier: Apache-2.0 OR MIT
// Everything the probe finds, gathered first and then printed as text or JSON.
#ifndef ASYMFENCE_TOOLS_PROBE_FINDINGS_HPP
#define ASYMFENCE_TOOLS_PROBE_FINDINGS_HPP

#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace asymfence::probe {

struct system_facts {
  std::string os;       // "Linux", "Windows", ...
  std::string kernel;   // the kernel release; "" where unknown
  std::string arch;     // the machine ("x86_64", "aarch64", ...)
  std::string library_version;
  bool light_compiler_only = false;  // ASYMFENCE_LIGHT_IS_COMPILER_BARRIER
  bool checked_light = false;        // ASYMFENCE_CHECKED_LIGHT
  bool tsan = false;                 // built with ThreadSanitizer
};

// The probe's own REGISTER_PRIVATE_EXPEDITED call.
struct registration_check {
  bool attempted = false;  // false where QUERY does not offer the command
  bool ok = false;
  int error = 0;           // errno when it failed
};

// The median cost of one call, alone and with one other thread spinning on
// another CPU (the case where the kernel must interrupt it).
struct latency {
  bool measured = false;
  int error = 0;  // errno of a failed raw call; nothing measured then
  int samples = 0;
  double idle_ns = 0;
  double one_spinning_ns = 0;
};

struct raw_latency {
  strategy mechanism = strategy::none;
  std::string call;  // what was called, e.g. "membarrier(PRIVATE_EXPEDITED)"
  latency cost;
};

struct costs {
  // One "store; barrier; load" step, as a hazard-pointer protect does it.
  double compiler_barrier_ns = 0;
  double light_ns = 0;
  double seq_cst_fence_ns = 0;
  latency heavy;                 // asymfence::heavy() with the active strategy
  std::vector<raw_latency> raw;  // each usable mechanism called directly
};

// N threads calling heavy() at once, beside the same threads each making the
// raw call of the active mechanism.
struct sharing {
  int threads = 0;
  double seconds = 0;
  std::uint64_t heavy_calls = 0;
  std::uint64_t barriers_issued = 0;  // from asymfence::stats()
  double heavy_calls_per_s = 0;
  bool raw_measured = false;
  int raw_error = 0;
  std::string raw_call;
  std::uint64_t raw_calls = 0;
  double raw_calls_per_s = 0;
};

struct self_check {
  std::uint64_t requested = 0;
  std::uint64_t iterations = 0;  // fewer than requested when the time limit cut it short
  std::uint64_t forbidden = 0;
  bool pinned = false;
  const char* control_light = "";  // the control's light side
  std::uint64_t control_iterations = 0;
  std::uint64_t control_forbidden = 0;
  int control_attempts = 0;
};

struct findings {
  system_facts system;
  selection_report selection;
  init_result init;
  strategy active = strategy::none;
  registration_check registration;
  bool measured = false;  // costs, sharing and self_check below are valid
  costs cost;
  sharing shared;
  self_check check;
};

// The membarrier(2) commands by their QUERY bit (enum membarrier_cmd in
// <linux/membarrier.h>; the values are kernel ABI).
struct membarrier_command {
  long bit;
  const char* name;
};
inline constexpr membarrier_command membarrier_commands[] = {
    {1L << 0, "GLOBAL"},
    {1L << 1, "GLOBAL_EXPEDITED"},
    {1L << 2, "REGISTER_GLOBAL_EXPEDITED"},
    {1L << 3, "PRIVATE_EXPEDITED"},
    {1L << 4, "REGISTER_PRIVATE_EXPEDITED"},
    {1L << 5, "PRIVATE_EXPEDITED_SYNC_CORE"},
    {1L << 6, "REGISTER_PRIVATE_EXPEDITED_SYNC_CORE"},
    {1L << 7, "PRIVATE_EXPEDITED_RSEQ"},
    {1L << 8, "REGISTER_PRIVATE_EXPEDITED_RSEQ"},
    {1L << 9, "GET_REGISTRATIONS"},
};
inline constexpr long membarrier_known_bits = (1L << 10) - 1;

// The exit code the findings call for (see --help).
int exit_code(const findings& f) noexcept;

}  // namespace asymfence::probe

#endif
