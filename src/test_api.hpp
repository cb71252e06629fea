// SPDX-License-Identifier: Apache-2.0 OR MIT
// ASYMFENCE_TEST_API marks what only the project's own tests call: the
// system-call seam, the test hooks, and rules tested on their own. The
// installed library keeps these symbols hidden; a shared build's tests link a
// variant compiled with ASYMFENCE_EXPORT_TEST_HOOKS (target asymfence_testable)
// that exports them.
#ifndef ASYMFENCE_SRC_TEST_API_HPP
#define ASYMFENCE_SRC_TEST_API_HPP

#include <asymfence/export.h>

#if defined(ASYMFENCE_BUILDING_LIBRARY) && !defined(ASYMFENCE_EXPORT_TEST_HOOKS)
#define ASYMFENCE_TEST_API
#else
#define ASYMFENCE_TEST_API ASYMFENCE_API
#endif

#endif
