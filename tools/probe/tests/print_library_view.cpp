// SPDX-License-Identifier: Apache-2.0 OR MIT
// Prints what the library itself reports, for the probe's tests to compare
// with the probe's JSON: "<active strategy> <1 if light() is only a compiler
// barrier, else 0> <1 in a ThreadSanitizer build, else 0>".
#include <asymfence/asymfence.hpp>

#include <cstdio>

int main() {
  std::printf("%s %d %d\n", asymfence::to_string(asymfence::active_strategy()),
              ASYMFENCE_LIGHT_IS_COMPILER_BARRIER, ASYMFENCE_TSAN);
  return 0;
}
