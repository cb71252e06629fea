// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "self_check.hpp"

#include <asymfence/asymfence.hpp>

#include <algorithm>

#include "store_buffering.hpp"

namespace asymfence::probe {
self_check run_self_check(std::uint64_t iterations, const measurement_plan& plan) {
  self_check result;
  result.requested = iterations;
  litmus::outcome real = litmus::run_store_buffering(iterations, litmus::light_barrier,
                                                     litmus::heavy_barrier,
                                                     plan.litmus_seconds);
  result.iterations = real.iterations;
  result.forbidden = real.forbidden;
  result.pinned = real.pinned;

  // The control pits the light side as the default build compiles it against
  // a plain fence. Where this build's light() fences (checked light, TSan, a
  // platform without a mechanism) a bare compiler barrier stands in for it:
  // light() against a fence would show nothing and prove nothing.
  litmus::barrier_function control_light =
      ASYMFENCE_LIGHT_IS_COMPILER_BARRIER ? litmus::light_barrier : litmus::compiler_barrier;
  result.control_light = ASYMFENCE_LIGHT_IS_COMPILER_BARRIER ? "light()" : "compiler barrier";
  litmus::outcome control = litmus::repeat_until_forbidden(
      [&] {
        return litmus::run_store_buffering(std::max(iterations, minimum_control_iterations),
                                           control_light, litmus::seq_cst_fence,
                                           plan.control_seconds);
      },
      plan.control_patience_seconds, &result.control_attempts);
  result.control_iterations = control.iterations;
  result.control_forbidden = control.forbidden;
  return result;
}

}  // namespace asymfence::probe
