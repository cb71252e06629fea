// SPDX-License-Identifier: Apache-2.0 OR MIT
// Runs the probe: gathers the findings that the report prints.
#ifndef ASYMFENCE_TOOLS_PROBE_PROBE_HPP
#define ASYMFENCE_TOOLS_PROBE_PROBE_HPP

#include "findings.hpp"
#include "options.hpp"

namespace asymfence::probe {

// Selection and system facts always; costs, sharing and the self-check only
// when a sound strategy exists (heavy() would stop the process otherwise).
findings gather(const options& opts);

}  // namespace asymfence::probe

#endif
