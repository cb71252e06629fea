// SPDX-License-Identifier: Apache-2.0 OR MIT
// A translation unit that only uses light(): the one that, built for one
// light() and linked with the other build's library, must fail to link
// (tests/core/light_variants.cmake).
#include <asymfence/asymfence.hpp>

void variant_light() { asymfence::light(); }
