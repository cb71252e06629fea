# SPDX-License-Identifier: Apache-2.0 OR MIT
# ASYMFENCE_CXX_RUNTIME_LIBRARIES: what the C++ compiler links beyond what the
# C compiler links (libstdc++ and libm with g++), so that a program linked by
# the C compiler can use the static C++ library: the exported target adds them
# for C links, and asymfence.pc lists them. Empty where the two link alike.
set(ASYMFENCE_CXX_RUNTIME_LIBRARIES ${CMAKE_CXX_IMPLICIT_LINK_LIBRARIES})
if(CMAKE_C_IMPLICIT_LINK_LIBRARIES AND ASYMFENCE_CXX_RUNTIME_LIBRARIES)
  list(REMOVE_ITEM ASYMFENCE_CXX_RUNTIME_LIBRARIES ${CMAKE_C_IMPLICIT_LINK_LIBRARIES})
endif()
list(REMOVE_DUPLICATES ASYMFENCE_CXX_RUNTIME_LIBRARIES)
