// SPDX-License-Identifier: Apache-2.0 OR MIT
// A program that uses asymfence the way a user's project does. The packaging
// tests build it against the installed package, the build tree, and the
// source tree pulled in with add_subdirectory.
#include <asymfence/asymfence.hpp>

#include <cstdio>

int main() {
  asymfence::init_result result = asymfence::init();
  if (!result) {
    std::fprintf(stderr, "asymfence::init() failed: %s\n", result.message);
    return 1;
  }
  asymfence::light();
  asymfence::heavy();
  asymfence::asymmetric_thread_fence_light(std::memory_order_seq_cst);
  asymfence::asymmetric_thread_fence_heavy(std::memory_order_seq_cst);
  // Proves that heavy() went through the library's slow path.
  if (asymfence::stats().heavy_calls < 2) {
    std::fprintf(stderr, "heavy() calls were not counted by the library\n");
    return 1;
  }
  std::printf("version: %d.%d.%d %s\n", ASYMFENCE_VERSION_MAJOR, ASYMFENCE_VERSION_MINOR,
              ASYMFENCE_VERSION_PATCH, ASYMFENCE_VERSION_STRING);
  std::printf("light is a compiler barrier: %d\n", ASYMFENCE_LIGHT_IS_COMPILER_BARRIER);
  std::printf("strategy: %s\n", asymfence::to_string(asymfence::active_strategy()));
  return 0;
}
