// SPDX-License-Identifier: Apache-2.0 OR MIT
// Strategy selection: the one place that decides which mechanism heavy() uses,
// at load time, on first use, or when the mechanism in use fails.
#ifndef ASYMFENCE_SRC_SELECTION_HPP
#define ASYMFENCE_SRC_SELECTION_HPP

#include <asymfence/asymfence.hpp>

#include "mechanism.hpp"

namespace asymfence::detail {

// The mechanism in force, selecting first if needed; nullptr when none is
// sound (heavy() must then stop with stop_without_strategy()).
const mechanism* ensure_selected() noexcept;

// Called by the barrier leader when `failed` could not issue a barrier:
// readies and publishes the next sound mechanism, or stops the process with a
// message naming the errno and the remedy. Never returns `failed` or a fence
// that light() does not pair with.
const mechanism* replace_failed_mechanism(const mechanism* failed, int error) noexcept;

// Stops the process: heavy() was called but selection found no sound strategy.
[[noreturn]] void stop_without_strategy() noexcept;

}  // namespace asymfence::detail

#endif
