# SPDX-License-Identifier: Apache-2.0 OR MIT
# The core test suite: the API (C++17, C++20 and C99), the store-buffering
# litmus per strategy, concurrent first use, fork, code generation, the
# override, heavy-barrier sharing, calls from signal handlers and the
# kernel-version rules.
set(ASYMFENCE_CORE_TESTS ${CMAKE_CURRENT_LIST_DIR})

# A GoogleTest program of this suite (see asymfence_add_gtest).
function(asymfence_core_test name)
  asymfence_add_gtest(${name} core ${ARGN})
endfunction()

asymfence_core_test(asymfence_api_test ${ASYMFENCE_CORE_TESTS}/api_test.cpp)
target_compile_definitions(asymfence_api_test PRIVATE ASYMFENCE_TEST_CPLUSPLUS=201703L)

# The same API test as C++20: the public headers must compile there too.
add_executable(asymfence_api_test_cxx20 ${ASYMFENCE_CORE_TESTS}/api_test.cpp)
set_target_properties(asymfence_api_test_cxx20 PROPERTIES CXX_STANDARD 20)
target_compile_definitions(asymfence_api_test_cxx20 PRIVATE ASYMFENCE_TEST_CPLUSPLUS=202002L)
target_link_libraries(asymfence_api_test_cxx20 PRIVATE asymfence GTest::gtest_main)
gtest_discover_tests(asymfence_api_test_cxx20 TEST_PREFIX cxx20. DISCOVERY_TIMEOUT 60
                     PROPERTIES LABELS core)

# The C API, compiled as strict C99; the library itself is C++, hence the
# C++ linker.
add_executable(asymfence_c_api_test ${ASYMFENCE_CORE_TESTS}/c_api_test.c)
set_source_files_properties(${ASYMFENCE_CORE_TESTS}/c_api_test.c PROPERTIES LANGUAGE C)
set_target_properties(asymfence_c_api_test PROPERTIES
  C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF LINKER_LANGUAGE CXX)
if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(asymfence_c_api_test PRIVATE -Wall -Wextra -pedantic-errors)
endif()
target_link_libraries(asymfence_c_api_test PRIVATE asymfence)
add_test(NAME CApi.CompiledAsC99 COMMAND asymfence_c_api_test)
set_tests_properties(CApi.CompiledAsC99 PROPERTIES LABELS core)

asymfence_core_test(asymfence_litmus_test ${ASYMFENCE_CORE_TESTS}/litmus_test.cpp TIMEOUT 1500)
asymfence_core_test(asymfence_first_use_test ${ASYMFENCE_CORE_TESTS}/first_use_test.cpp)
asymfence_core_test(asymfence_fork_test ${ASYMFENCE_CORE_TESTS}/fork_test.cpp)
asymfence_core_test(asymfence_override_test ${ASYMFENCE_CORE_TESTS}/override_test.cpp)
target_link_libraries(asymfence_override_test PRIVATE GTest::gmock)
asymfence_core_test(asymfence_sharing_test ${ASYMFENCE_CORE_TESTS}/sharing_test.cpp)
asymfence_core_test(asymfence_signal_test ${ASYMFENCE_CORE_TESTS}/signal_test.cpp)
asymfence_compile_optimised(asymfence_sharing_test)  # its own store-buffering loop
asymfence_core_test(asymfence_membarrier_rules_test
                    ${ASYMFENCE_CORE_TESTS}/membarrier_rules_test.cpp)

# Translation units built for different light() bodies fail to link together.
# Both variant libraries exist only in native non-Windows builds (quoted: an
# unset name is no target).
if(TARGET "${ASYMFENCE_DEFAULT_VARIANT}" AND TARGET "${ASYMFENCE_CHECKED_VARIANT}" AND
   CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  find_program(ASYMFENCE_NM NAMES nm)
  add_test(NAME Variants.MixingLightBuildsFailsToLink
           COMMAND ${CMAKE_COMMAND}
                   -DCXX=${CMAKE_CXX_COMPILER} -DSOURCE_DIR=${ASYMFENCE_CORE_TESTS}
                   -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/light_variants
                   -DINCLUDE=${PROJECT_SOURCE_DIR}/include
                   -DDEFAULT_CONFIG=$<TARGET_PROPERTY:${ASYMFENCE_DEFAULT_VARIANT},ASYMFENCE_GENERATED_INCLUDE>
                   -DCHECKED_CONFIG=$<TARGET_PROPERTY:${ASYMFENCE_CHECKED_VARIANT},ASYMFENCE_GENERATED_INCLUDE>
                   -DDEFAULT_LIBRARY=$<TARGET_FILE:${ASYMFENCE_DEFAULT_VARIANT}>
                   -DCHECKED_LIBRARY=$<TARGET_FILE:${ASYMFENCE_CHECKED_VARIANT}>
                   -DNM=${ASYMFENCE_NM} "-DLINK_FLAGS=${CMAKE_CXX_FLAGS}"
                   -P ${ASYMFENCE_CORE_TESTS}/light_variants.cmake)
  set_tests_properties(Variants.MixingLightBuildsFailsToLink PROPERTIES LABELS core TIMEOUT 300)
endif()

# Code generation: light() in an object compiled at -O2, one section per
# function so that alignment padding does not show up inside a function.
if(CMAKE_OBJDUMP)
  set(ASYMFENCE_OBJDUMP ${CMAKE_OBJDUMP})
else()
  find_program(ASYMFENCE_OBJDUMP NAMES objdump)
endif()
if(ASYMFENCE_OBJDUMP AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  add_library(asymfence_codegen_subject OBJECT ${ASYMFENCE_CORE_TESTS}/codegen_subject.cpp)
  target_compile_options(asymfence_codegen_subject PRIVATE -O2 -ffunction-sections)
  target_link_libraries(asymfence_codegen_subject PRIVATE asymfence)
  asymfence_core_test(asymfence_codegen_test ${ASYMFENCE_CORE_TESTS}/codegen_test.cpp)
  add_dependencies(asymfence_codegen_test asymfence_codegen_subject)
  target_compile_definitions(asymfence_codegen_test PRIVATE
    "ASYMFENCE_OBJDUMP=\"${ASYMFENCE_OBJDUMP}\""
    "ASYMFENCE_CODEGEN_OBJECT=\"$<TARGET_OBJECTS:asymfence_codegen_subject>\"")
else()
  message(WARNING "objdump not found: the code-generation test of light() is not built")
endif()
