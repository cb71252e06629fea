# SPDX-License-Identifier: Apache-2.0 OR MIT
# Cross-compiles for little-endian 64-bit POWER Linux with Debian's g++-powerpc64le-linux-gnu;
# ctest runs the programs under qemu-ppc64le (Debian qemu-user).
set(ASYMFENCE_CROSS_TRIPLE powerpc64le-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR ppc64le)
set(ASYMFENCE_QEMU qemu-ppc64le)
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
