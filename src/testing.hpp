// SPDX-License-Identifier: Apache-2.0 OR MIT
// Hooks for the library's own tests; not part of the public API.
#ifndef ASYMFENCE_SRC_TESTING_HPP
#define ASYMFENCE_SRC_TESTING_HPP

#include <asymfence/asymfence.hpp>

#include "test_api.hpp"

namespace asymfence::detail {

// Forgets the current selection and selects again with the current seam and
// environment (as a fresh process would). No other thread may be using the
// library meanwhile.
ASYMFENCE_TEST_API init_result reselect_for_testing() noexcept;

// Forgets the current selection without selecting again, so that the next
// call of any API function selects (to test concurrent first use).
ASYMFENCE_TEST_API void unselect_for_testing() noexcept;

// Makes the library tell its own in-progress state from state copied from a
// parent process by getpid(), as where the kernel lacks MADV_WIPEONFORK
// (src/process_mark.hpp). No other thread may be using the library.
ASYMFENCE_TEST_API void use_pid_marks_for_testing() noexcept;

}  // namespace asymfence::detail

#endif
