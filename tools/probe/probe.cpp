// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "probe.hpp"

#include <iostream>

#include "costs.hpp"
#include "raw_barriers.hpp"
#include "self_check.hpp"
#include "system_info.hpp"

namespace asymfence::probe {
namespace {

// The probe's own REGISTER_PRIVATE_EXPEDITED call, where QUERY offers it.
registration_check register_private_expedited(long query_mask) noexcept {
  registration_check result;
  const int error = raw::register_private_expedited(query_mask);
  result.attempted = error >= 0;
  result.ok = error == 0;
  result.error = error > 0 ? error : 0;
  return result;
}

}  // namespace

findings gather(const options& opts) {
  findings f;
  f.system = describe_system();
  f.init = asymfence::init();
  f.selection = asymfence::selection();
  f.registration = register_private_expedited(f.selection.membarrier_query);
  f.active = asymfence::active_strategy();
  if (!f.init) return f;

  if (!opts.json) {
    std::cerr << "asymfence-probe: measuring" << (opts.quick ? "" : " (a few seconds)") << "...\n";
  }

  measurement_plan plan = plan_measurements(opts.quick, opts.threads);
  f.cost = measure_costs(plan, f.active, f.selection);
  f.shared = measure_sharing(plan, f.active);
  f.check = run_self_check(opts.iterations, plan);
  f.measured = true;
  // A mechanism that failed meanwhile has been replaced: report the one in use.
  f.active = asymfence::active_strategy();
  return f;
}

int exit_code(const findings& f) noexcept {
  if (!f.init || !f.measured) return exit_no_sound_strategy;
  // A strategy forced past the reason it was refused (Wine's stub, a
  // hypervisor's flush hypercall) fails even with a clean litmus run: a slow
  // no-op on the heavy side can hide the reordering (Wine's stub does).
  if (f.check.forbidden > 0 || f.selection.platform_warning[0] != '\0') {
    return exit_self_check_failed;
  }
  if (f.check.control_forbidden == 0) return exit_self_check_inconclusive;
  return exit_ok;
}

}  // namespace asymfence::probe
