// SPDX-License-Identifier: Apache-2.0 OR MIT
// The store-buffering self-check: light() against heavy() must never let both
// threads miss each other's store; a control that pairs the light side with a
// plain seq_cst fence must show that the harness catches it when it happens.
#ifndef ASYMFENCE_TOOLS_PROBE_SELF_CHECK_HPP
#define ASYMFENCE_TOOLS_PROBE_SELF_CHECK_HPP

#include <cstdint>

#include "costs.hpp"
#include "findings.hpp"

namespace asymfence::probe {

// Violations are rare (a few per ten thousand iterations, fewer on a busy
// machine) and control iterations are cheap, so the control never runs fewer.
inline constexpr std::uint64_t minimum_control_iterations = 200000;

self_check run_self_check(std::uint64_t iterations, const measurement_plan& plan);

}  // namespace asymfence::probe

#endif
