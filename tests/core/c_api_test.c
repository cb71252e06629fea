/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* The C API, compiled as C99 with -pedantic-errors: every function is called
   and the program exits non-zero when any check fails. */
#include <asymfence/asymfence.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

static int is_valid_strategy_name(const char* name) {
  static const char* const names[] = {"membarrier_private_expedited", "mprotect",
                                      "membarrier_global", "flush_process_write_buffers", "fence",
                                      "virtual_protect"};
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
    if (strcmp(name, names[i]) == 0) return 1;
  }
  return 0;
}

int main(void) {
  const char* name;
  uint64_t ticket;
  long polls = 0;
  int result = asymfence_init();
  check(result == 0, "asymfence_init() returns 0");
  check(asymfence_init_message() != NULL && asymfence_init_message()[0] == '\0',
        "asymfence_init_message() is empty after a successful init");

  name = asymfence_strategy_name();
  check(name != NULL, "asymfence_strategy_name() is not NULL");
  if (name == NULL) return 1;
  check(is_valid_strategy_name(name), "asymfence_strategy_name() names a sound strategy");
#if defined(__linux__)
  check(strncmp(name, "membarrier_", 11) == 0 || strcmp(name, "mprotect") == 0,
        "a Linux strategy is selected");
#endif

  asymfence_light();
  asymfence_heavy();
  check(asymfence_try_heavy() == 1, "asymfence_try_heavy() succeeds when uncontended");
  ticket = asymfence_start_heavy();
  while (!asymfence_heavy_completed(ticket) && polls < 1000000) ++polls;
  check(asymfence_heavy_completed(ticket) == 1, "a ticket completes");
  check(asymfence_heavy_completed(ticket) == 1, "a completed ticket stays completed");
  check(strcmp(asymfence_strategy_name(), name) == 0, "the strategy stays the same");

  printf("strategy: %s, failures: %d\n", name, failures);
  return failures == 0 ? 0 : 1;
}
