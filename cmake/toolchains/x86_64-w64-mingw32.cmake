# SPDX-License-Identifier: Apache-2.0 OR MIT
# Cross-compiles for 64-bit Windows with Debian's mingw-w64 (the posix-threads
# compilers, which std::thread needs); ctest runs the programs under Wine,
# headless.
#
# Wine 8's FlushProcessWriteBuffers is a stub that does nothing; the library
# selects virtual_protect there, which Wine maps to the host's mprotect, so a
# run under Wine checks the barrier too (litmus and interrupt counts).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(ASYMFENCE_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${ASYMFENCE_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${ASYMFENCE_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${ASYMFENCE_MINGW_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${ASYMFENCE_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The C++ runtime, libgcc and winpthreads linked in, so that Wine (or a
# Windows machine) finds no missing DLL.
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
set(CMAKE_SHARED_LINKER_FLAGS_INIT -static)

find_program(ASYMFENCE_WINE_PROGRAM wine)
if(NOT ASYMFENCE_WINE_PROGRAM)
  message(FATAL_ERROR "wine not found: install Debian's wine and wine64 to run the Windows "
                      "tests (apt-get install wine wine64)")
endif()
# Headless and quiet; the prefix is WINEPREFIX when set, else ~/.wine.
# ASYMFENCE_EMULATOR tells the tests that Wine runs them, so that those that
# cannot work under it skip with a reason.
set(CMAKE_CROSSCOMPILING_EMULATOR
    env WINEDEBUG=-all DISPLAY= ASYMFENCE_EMULATOR=wine ${ASYMFENCE_WINE_PROGRAM})
