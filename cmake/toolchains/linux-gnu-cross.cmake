# SPDX-License-Identifier: Apache-2.0 OR MIT
# Shared part of the Linux cross toolchains: Debian's g++-<triple> cross
# compilers, their sysroot under /usr/<triple>, and qemu-user to run the
# target's programs (tests, test discovery) on the build machine.
#
# The including file sets ASYMFENCE_CROSS_TRIPLE, CMAKE_SYSTEM_PROCESSOR and
# ASYMFENCE_QEMU (qemu-user's program for the architecture).
#
# qemu-user runs the programs with the host's memory ordering (x86 here), so
# such a run checks the build, strategy selection and code generation, not
# weak-memory behaviour.
set(CMAKE_SYSTEM_NAME Linux)

set(CMAKE_C_COMPILER ${ASYMFENCE_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${ASYMFENCE_CROSS_TRIPLE}-g++)

# Libraries, headers and CMake packages come from the target's sysroot only,
# so that the host's GoogleTest or Google Benchmark are never picked up;
# programs (objdump, qemu) come from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${ASYMFENCE_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(ASYMFENCE_QEMU_PROGRAM ${ASYMFENCE_QEMU})
if(NOT ASYMFENCE_QEMU_PROGRAM)
  message(FATAL_ERROR "${ASYMFENCE_QEMU} not found: install Debian's qemu-user to run the "
                      "${CMAKE_SYSTEM_PROCESSOR} tests (apt-get install qemu-user)")
endif()
# -L: the target's dynamic loader and libraries. -E: tells the tests which
# emulator runs them, so that those that cannot work under it skip with a reason.
set(CMAKE_CROSSCOMPILING_EMULATOR
    ${ASYMFENCE_QEMU_PROGRAM} -L /usr/${ASYMFENCE_CROSS_TRIPLE}
    -E ASYMFENCE_EMULATOR=${ASYMFENCE_QEMU})
