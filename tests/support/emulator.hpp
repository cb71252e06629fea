// SPDX-License-Identifier: Apache-2.0 OR MIT
// Whether the test program runs under an emulator: qemu-user for the other
// architectures, Wine for Windows. The cross toolchain files
// (cmake/toolchains) announce it through ASYMFENCE_EMULATOR. Tests that
// cannot work there (seccomp, strace, /proc/interrupts, exec of helper
// programs, litmus on the host's memory order) skip with the reason.
#ifndef ASYMFENCE_TESTS_SUPPORT_EMULATOR_HPP
#define ASYMFENCE_TESTS_SUPPORT_EMULATOR_HPP

#include <cstdlib>
#include <string>

namespace asymfence::test {

// "qemu-aarch64", "wine", ...; "" when the program runs natively.
inline std::string emulator_name() {
  const char* name = std::getenv("ASYMFENCE_EMULATOR");
  return name == nullptr ? std::string() : std::string(name);
}

}  // namespace asymfence::test

// Skips the calling GoogleTest test under an emulator, printing why.
#define ASYMFENCE_SKIP_UNDER_EMULATOR(why)                                            \
  do {                                                                                \
    const std::string asymfence_emulator_ = ::asymfence::test::emulator_name();       \
    if (!asymfence_emulator_.empty()) {                                               \
      GTEST_SKIP() << "skipped under " << asymfence_emulator_ << ": " << why;         \
    }                                                                                 \
  } while (0)

#endif
