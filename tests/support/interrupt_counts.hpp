// SPDX-License-Identifier: Apache-2.0 OR MIT
// The function-call interrupts ("CAL", the IPIs a TLB shootdown or membarrier
// sends) that one CPU has received, read from Linux's /proc/interrupts; under
// Wine the host's file is readable as Z:\proc\interrupts.
#ifndef ASYMFENCE_TESTS_SUPPORT_INTERRUPT_COUNTS_HPP
#define ASYMFENCE_TESTS_SUPPORT_INTERRUPT_COUNTS_HPP

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace asymfence::test {

#if defined(_WIN32)
inline constexpr const char* interrupts_file = "Z:\\proc\\interrupts";
#else
inline constexpr const char* interrupts_file = "/proc/interrupts";
#endif

// The "CAL" count of one CPU, or -1 when the file has no such line or column
// (not x86, no /proc, or not under Wine on Linux).
inline std::int64_t function_call_interrupts(int cpu) {
  std::ifstream in(interrupts_file);
  std::string header;
  if (!std::getline(in, header)) return -1;
  int column = -1;
  {
    std::istringstream words(header);
    std::string word;
    for (int i = 0; words >> word; ++i) {
      if (word == "CPU" + std::to_string(cpu)) column = i;
    }
  }
  if (column < 0) return -1;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string label;
    if (!(words >> label) || label != "CAL:") continue;
    std::uint64_t count = 0;
    for (int i = 0; i <= column; ++i) {
      if (!(words >> count)) return -1;
    }
    return static_cast<std::int64_t>(count);
  }
  return -1;
}

}  // namespace asymfence::test

#endif
