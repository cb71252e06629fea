// SPDX-License-Identifier: Apache-2.0 OR MIT
// The rest of the program of tests/core/light_variants.cmake: heavy() and the
// light() of the other translation unit.
#include <asymfence/asymfence.hpp>

void variant_light();

int main() {
  variant_light();
  asymfence::heavy();
  return 0;
}
