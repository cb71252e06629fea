# SPDX-License-Identifier: Apache-2.0 OR MIT
# Cross-compiles for 64-bit Arm Linux with Debian's g++-aarch64-linux-gnu;
# ctest runs the programs under qemu-aarch64 (Debian qemu-user).
set(ASYMFENCE_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(ASYMFENCE_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
