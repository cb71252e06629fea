// SPDX-License-Identifier: Apache-2.0 OR MIT
// Compiled with ASYMFENCE_RELACY=1 but without relacy: must stop with a message.
#include <asymfence/asymfence.hpp>
