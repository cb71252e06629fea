// SPDX-License-Identifier: Apache-2.0 OR MIT
// Hooks for the RCU tests; not part of the public API.
#ifndef ASYMFENCE_SRC_PRIMITIVES_RCU_TESTING_HPP
#define ASYMFENCE_SRC_PRIMITIVES_RCU_TESTING_HPP

#include <asymfence/export.h>

#include "../test_api.hpp"

#include <cstdint>

namespace asymfence::detail {

// Replaces the grace period's heavy() (B) by `barrier` (nullptr: the real
// one), for the store-buffering control. No grace period may be in flight.
ASYMFENCE_TEST_API void rcu_set_updater_barrier_for_testing(void (*barrier)()) noexcept;
// Grace periods completed in this process.
ASYMFENCE_TEST_API std::uint64_t rcu_grace_periods_for_testing() noexcept;
// Deleters run by the reclamation thread.
ASYMFENCE_TEST_API std::uint64_t rcu_objects_reclaimed_for_testing() noexcept;

}  // namespace asymfence::detail

#endif
