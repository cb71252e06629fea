// SPDX-License-Identifier: Apache-2.0 OR MIT
// The real barriers are defined before the model is asked for: must stop
// with a message rather than let relacy check code it cannot see.
#include <asymfence/asymfence.hpp>

#include <relacy/relacy.hpp>

#include <asymfence/relacy.hpp>
