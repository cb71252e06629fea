# SPDX-License-Identifier: Apache-2.0 OR MIT
# Included by the consumers that find the installed (or build-tree) package.
find_package(asymfence 0.1 CONFIG REQUIRED)
message(STATUS "asymfence ${asymfence_VERSION} from ${asymfence_DIR}")
# The test names the package it means; another one found first would prove nothing.
if(DEFINED EXPECTED_ASYMFENCE_DIR)
  file(REAL_PATH "${asymfence_DIR}" found)
  file(REAL_PATH "${EXPECTED_ASYMFENCE_DIR}" expected)
  if(NOT found STREQUAL expected)
    message(FATAL_ERROR "found asymfence in ${found}, expected ${expected}")
  endif()
endif()
