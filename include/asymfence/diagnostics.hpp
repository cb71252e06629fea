// SPDX-License-Identifier: Apache-2.0 OR MIT
// What selection found: for tools (asymfence-probe) and operators who want to
// know why a strategy was or was not chosen.
#ifndef ASYMFENCE_DIAGNOSTICS_HPP
#define ASYMFENCE_DIAGNOSTICS_HPP

#include <asymfence/asymfence.hpp>

namespace asymfence {

// One strategy as selection saw it.
struct candidate_report {
  strategy id = strategy::none;
  bool usable = false;    // sound and offered here
  bool selected = false;  // the one chosen at selection
  char reason[200] = "";  // why it is not usable; "" when it is
};

struct selection_report {
  strategy selected = strategy::none;  // chosen at selection (active_strategy() may differ later)
  int error = 0;                       // errno-style cause when none is sound
  char message[1024] = "";             // why none is sound; "" on success
  bool forced = false;                 // ASYMFENCE_STRATEGY named a strategy
  char forced_name[64] = "";           // its value, as given
  long membarrier_query = -1;          // MEMBARRIER_CMD_QUERY's bitmask, or -1
  int membarrier_query_error = 0;      // errno of a failed QUERY
  char kernel_release[128] = "";       // uname -r; "" where unknown
  bool light_fences = false;           // the library's light() fences (checked or fence-only build)
  char platform_warning[200] = "";     // a known flaw of this platform (Wine's stub); "" if none
  candidate_report candidates[strategy_count - 1];  // every strategy but none, by preference
};

// A copy of what selection found, selecting first if that has not happened.
ASYMFENCE_API selection_report selection() noexcept;

}  // namespace asymfence

#endif
