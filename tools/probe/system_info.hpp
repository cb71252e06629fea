// SPDX-License-Identifier: Apache-2.0 OR MIT
// The operating system, kernel, architecture and build the probe runs on.
#ifndef ASYMFENCE_TOOLS_PROBE_SYSTEM_INFO_HPP
#define ASYMFENCE_TOOLS_PROBE_SYSTEM_INFO_HPP

#include "findings.hpp"

namespace asymfence::probe {

system_facts describe_system();

}  // namespace asymfence::probe

#endif
