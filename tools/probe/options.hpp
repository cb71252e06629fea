// SPDX-License-Identifier: Apache-2.0 OR MIT
// Command-line options of asymfence-probe.
#ifndef ASYMFENCE_TOOLS_PROBE_OPTIONS_HPP
#define ASYMFENCE_TOOLS_PROBE_OPTIONS_HPP

#include <cstdint>
#include <string>

namespace asymfence::probe {

struct options {
  bool json = false;
  bool quick = false;
  std::uint64_t iterations = 0;  // store-buffering iterations; 0 until parsed
  int threads = 8;               // concurrent heavy() callers in the sharing figure
};

enum class parse_outcome { run, help, version, usage_error };

struct parse_result {
  parse_outcome outcome = parse_outcome::run;
  std::string error;  // for usage_error: what was wrong
};

// Fills `out` from argv; iterations gets its default (which --quick lowers)
// unless given.
parse_result parse_options(int argc, char** argv, options& out);

// The --help text: usage, options, environment, exit codes.
std::string help_text();

// Exit codes, as documented by --help.
inline constexpr int exit_ok = 0;
inline constexpr int exit_no_sound_strategy = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_self_check_failed = 3;
inline constexpr int exit_self_check_inconclusive = 4;

}  // namespace asymfence::probe

#endif
