/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* A C99 program that uses asymfence through pkg-config, as a C project would. */
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
  printf("strategy: %s\n", asymfence_strategy_name());
  return 0;
}
