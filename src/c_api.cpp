// SPDX-License-Identifier: Apache-2.0 OR MIT
// The C API: thin wrappers over the C++ one.
#include <asymfence/asymfence.h>

#include <asymfence/asymfence.hpp>

extern "C" {

void asymfence_light(void) { asymfence::light(); }

void asymfence_heavy(void) { asymfence::heavy(); }

int asymfence_try_heavy(void) { return asymfence::try_heavy() ? 1 : 0; }

uint64_t asymfence_start_heavy(void) { return asymfence::start_heavy().target; }

int asymfence_heavy_completed(uint64_t ticket) {
  return asymfence::heavy_completed(asymfence::heavy_ticket{ticket}) ? 1 : 0;
}

int asymfence_init(void) {
  asymfence::init_result r = asymfence::init();
  return r ? 0 : r.error;
}

const char* asymfence_init_message(void) { return asymfence::init().message; }

const char* asymfence_strategy_name(void) {
  return asymfence::to_string(asymfence::active_strategy());
}
}
