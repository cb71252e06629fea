# SPDX-License-Identifier: Apache-2.0 OR MIT
# Cross-compiles for 64-bit RISC-V Linux with Debian's g++-riscv64-linux-gnu;
# ctest runs the programs under qemu-riscv64 (Debian qemu-user).
set(ASYMFENCE_CROSS_TRIPLE riscv64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(ASYMFENCE_QEMU qemu-riscv64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
