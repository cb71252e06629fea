# SPDX-License-Identifier: Apache-2.0 OR MIT
# Tests of the primitives built on the barrier: the per-thread registry they
# share, hazard pointers, RCU and read_mostly_mutex.
set(ASYMFENCE_PRIMITIVE_TESTS ${CMAKE_CURRENT_LIST_DIR})

# A GoogleTest program of the primitives suite; each test runs in its own
# process. TIMEOUT (seconds, default 300) turns a hang into a failure.
function(asymfence_primitive_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE asymfence_test_support GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 NO_PRETTY_VALUES
                       PROPERTIES LABELS primitives TIMEOUT ${ARG_TIMEOUT})
endfunction()

asymfence_primitive_test(asymfence_registry_test ${ASYMFENCE_PRIMITIVE_TESTS}/registry_test.cpp)
asymfence_primitive_test(asymfence_hazard_pointer_test ${ASYMFENCE_PRIMITIVE_TESTS}/hazard_pointer_test.cpp)
asymfence_primitive_test(asymfence_hazard_pointer_test_cxx20 ${ASYMFENCE_PRIMITIVE_TESTS}/hazard_pointer_test.cpp)
set_target_properties(asymfence_hazard_pointer_test_cxx20 PROPERTIES CXX_STANDARD 20)
asymfence_primitive_test(asymfence_hazard_pointer_litmus_test ${ASYMFENCE_PRIMITIVE_TESTS}/hazard_pointer_litmus_test.cpp TIMEOUT 400)
asymfence_primitive_test(asymfence_hazard_pointer_torture_test ${ASYMFENCE_PRIMITIVE_TESTS}/hazard_pointer_torture_test.cpp)
asymfence_primitive_test(asymfence_hazard_pointer_clean_up_test ${ASYMFENCE_PRIMITIVE_TESTS}/hazard_pointer_clean_up_test.cpp)
asymfence_primitive_test(asymfence_rcu_test ${ASYMFENCE_PRIMITIVE_TESTS}/rcu_test.cpp)
asymfence_primitive_test(asymfence_rcu_cxx20_test ${ASYMFENCE_PRIMITIVE_TESTS}/rcu_test.cpp)
set_target_properties(asymfence_rcu_cxx20_test PROPERTIES CXX_STANDARD 20)
asymfence_primitive_test(asymfence_rcu_litmus_test ${ASYMFENCE_PRIMITIVE_TESTS}/rcu_litmus_test.cpp TIMEOUT 600)
asymfence_primitive_test(asymfence_rcu_torture_test ${ASYMFENCE_PRIMITIVE_TESTS}/rcu_torture_test.cpp)
# RCU's read side in objdump's listing (see rcu_codegen_test.cpp).
find_program(ASYMFENCE_RCU_OBJDUMP NAMES objdump)
if(ASYMFENCE_RCU_OBJDUMP AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  add_library(asymfence_rcu_codegen_subject OBJECT ${ASYMFENCE_PRIMITIVE_TESTS}/rcu_codegen_subject.cpp)
  # Without sanitizer instrumentation, which would add calls: the listing is
  # what an ordinary build of the caller gets, in every build of the project.
  target_compile_options(asymfence_rcu_codegen_subject PRIVATE -O2 -ffunction-sections
                         -fno-sanitize=all)
  target_link_libraries(asymfence_rcu_codegen_subject PRIVATE asymfence)
  asymfence_primitive_test(asymfence_rcu_codegen_test ${ASYMFENCE_PRIMITIVE_TESTS}/rcu_codegen_test.cpp)
  add_dependencies(asymfence_rcu_codegen_test asymfence_rcu_codegen_subject)
  target_compile_definitions(asymfence_rcu_codegen_test PRIVATE
    "ASYMFENCE_OBJDUMP=\"${ASYMFENCE_RCU_OBJDUMP}\""
    "ASYMFENCE_RCU_CODEGEN_OBJECT=\"$<TARGET_OBJECTS:asymfence_rcu_codegen_subject>\"")
asymfence_primitive_test(asymfence_read_mostly_mutex_test ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_test.cpp)
asymfence_primitive_test(asymfence_read_mostly_mutex_cxx20_test ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_test.cpp)
set_target_properties(asymfence_read_mostly_mutex_cxx20_test PROPERTIES CXX_STANDARD 20)
asymfence_primitive_test(asymfence_read_mostly_mutex_litmus_test ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_litmus_test.cpp TIMEOUT 600)
asymfence_primitive_test(asymfence_read_mostly_mutex_torture_test ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_torture_test.cpp)
# The read side's instructions (objdump of a shared section compiled at -O2).
if(ASYMFENCE_OBJDUMP AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  add_library(asymfence_read_mostly_codegen_subject OBJECT
              ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_codegen_subject.cpp)
  target_compile_options(asymfence_read_mostly_codegen_subject PRIVATE -O2 -ffunction-sections)
  target_link_libraries(asymfence_read_mostly_codegen_subject PRIVATE asymfence)
  asymfence_primitive_test(asymfence_read_mostly_mutex_codegen_test
                           ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_codegen_test.cpp)
  add_dependencies(asymfence_read_mostly_mutex_codegen_test asymfence_read_mostly_codegen_subject)
  target_compile_definitions(asymfence_read_mostly_mutex_codegen_test PRIVATE
    "ASYMFENCE_OBJDUMP=\"${ASYMFENCE_OBJDUMP}\""
    "ASYMFENCE_READ_MOSTLY_CODEGEN_OBJECT=\"$<TARGET_OBJECTS:asymfence_read_mostly_codegen_subject>\"")
endif()
