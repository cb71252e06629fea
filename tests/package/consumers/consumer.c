/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* A C99 program that uses asymfence as a C project would: through pkg-config,
   and from a C-only CMake project (consumers/c_only). */
#include <asymfence/asymfence.h>

#include <stdio.h>

int main(void) {
  if (asymfence_init() != 0) {
    fprintf(stderr, "asymfence_init() failed: %s\n", asymfence_init_message());
    return 1;
  }
  asymfence_light();
  asymfence_heavy();
  (void)asymfence_try_heavy();
  printf("version: %d.%d.%d %s\n", ASYMFENCE_VERSION_MAJOR, ASYMFENCE_VERSION_MINOR,
         ASYMFENCE_VERSION_PATCH, ASYMFENCE_VERSION_STRING);
  printf("strategy: %s\n", asymfence_strategy_name());
  return 0;
}
