# SPDX-License-Identifier: Apache-2.0 OR MIT
# Tests of the primitives built on the barrier: the per-thread registry they
# share, hazard pointers, RCU and read_mostly_mutex.
set(ASYMFENCE_PRIMITIVE_TESTS ${CMAKE_CURRENT_LIST_DIR})

# A GoogleTest program of this suite (see asymfence_add_gtest).
function(asymfence_primitive_test name)
  asymfence_add_gtest(${name} primitives ${ARGN})
endfunction()

# A read side's instructions in objdump's listing: SUBJECT is compiled at -O2
# without sanitizer instrumentation (which would add calls), so the listing is
# what an ordinary build of a caller gets in every build of the project; the
# test program reads it from the macro ASYMFENCE_CODEGEN_OBJECT. ASYMFENCE_OBJDUMP
# comes from the core suite.
function(asymfence_primitive_codegen_test name subject test_source)
  if(NOT ASYMFENCE_OBJDUMP OR NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    return()
  endif()
  add_library(${name}_subject OBJECT ${subject})
  target_compile_options(${name}_subject PRIVATE -O2 -ffunction-sections -fno-sanitize=all)
  target_link_libraries(${name}_subject PRIVATE asymfence)
  asymfence_primitive_test(${name} ${test_source})
  add_dependencies(${name} ${name}_subject)
  target_compile_definitions(${name} PRIVATE
    "ASYMFENCE_OBJDUMP=\"${ASYMFENCE_OBJDUMP}\""
    "ASYMFENCE_CODEGEN_OBJECT=\"$<TARGET_OBJECTS:${name}_subject>\"")
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
asymfence_primitive_codegen_test(asymfence_rcu_codegen_test
  ${ASYMFENCE_PRIMITIVE_TESTS}/rcu_codegen_subject.cpp ${ASYMFENCE_PRIMITIVE_TESTS}/rcu_codegen_test.cpp)
asymfence_primitive_test(asymfence_read_mostly_mutex_test ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_test.cpp)
asymfence_primitive_test(asymfence_read_mostly_mutex_cxx20_test ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_test.cpp)
set_target_properties(asymfence_read_mostly_mutex_cxx20_test PROPERTIES CXX_STANDARD 20)
asymfence_primitive_test(asymfence_read_mostly_mutex_litmus_test ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_litmus_test.cpp TIMEOUT 600)
asymfence_primitive_test(asymfence_read_mostly_mutex_torture_test ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_torture_test.cpp)
asymfence_primitive_codegen_test(asymfence_read_mostly_mutex_codegen_test
  ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_codegen_subject.cpp
  ${ASYMFENCE_PRIMITIVE_TESTS}/read_mostly_mutex_codegen_test.cpp)
