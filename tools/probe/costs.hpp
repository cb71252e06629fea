// SPDX-License-Identifier: Apache-2.0 OR MIT
// What light() and heavy() cost here, beside a compiler barrier, a seq_cst
// fence and the raw mechanisms, and how concurrent heavy() callers share
// barriers. Medians, in nanoseconds; timings, not assertions.
#ifndef ASYMFENCE_TOOLS_PROBE_COSTS_HPP
#define ASYMFENCE_TOOLS_PROBE_COSTS_HPP

#include <asymfence/diagnostics.hpp>

#include "findings.hpp"

namespace asymfence::probe {

// How long to measure: the default run takes a few seconds, --quick a
// fraction of one.
struct measurement_plan {
  int step_samples;        // samples of the fast-path step
  int steps_per_sample;
  int call_samples;        // heavy() and raw calls of microseconds
  int slow_call_samples;   // calls of milliseconds (GLOBAL: an RCU grace period)
  double sharing_seconds;  // per phase of the sharing figure
  int sharing_threads;
  // Bounds on the store-buffering runs, for a busy machine where the two
  // threads rarely run at once (the count actually run is reported).
  double litmus_seconds;
  double control_seconds;  // per attempt
  // How long the control may keep trying (see litmus::control_patience_seconds):
  // when the host runs both vCPUs on one CPU, reorderings are rare for a while.
  double control_patience_seconds;
};
measurement_plan plan_measurements(bool quick, int sharing_threads) noexcept;

// light() beside a compiler barrier and a seq_cst fence; heavy() with the
// active strategy; each mechanism that selection found usable, called raw.
costs measure_costs(const measurement_plan& plan, strategy active,
                    const selection_report& selection);

// plan.sharing_threads threads calling heavy() for plan.sharing_seconds, then
// the same threads each making the active mechanism's raw call.
sharing measure_sharing(const measurement_plan& plan, strategy active);

}  // namespace asymfence::probe

#endif
