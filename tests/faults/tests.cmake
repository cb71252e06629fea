# SPDX-License-Identifier: Apache-2.0 OR MIT
# Fault injection: seccomp filters and strace against a fresh process
# (fault_agent), and a kernel with faults behind the library's system-call
# seam. See docs/reliability.md for the matrix.
set(faults_dir ${CMAKE_CURRENT_LIST_DIR})

add_library(asymfence_fault_support STATIC
  ${faults_dir}/evidence.cpp ${faults_dir}/fake_kernel.cpp)
target_include_directories(asymfence_fault_support PUBLIC ${faults_dir})
target_link_libraries(asymfence_fault_support PUBLIC asymfence_test_support)

add_executable(fault_agent ${faults_dir}/fault_agent.cpp)
target_link_libraries(fault_agent PRIVATE asymfence_fault_support)

add_executable(asymfence_fault_test
  ${faults_dir}/process_fault_test.cpp ${faults_dir}/seam_fault_test.cpp)
target_link_libraries(asymfence_fault_test PRIVATE asymfence_fault_support GTest::gtest_main)
target_compile_definitions(asymfence_fault_test PRIVATE
  ASYMFENCE_FAULT_AGENT="$<TARGET_FILE:fault_agent>")
add_dependencies(asymfence_fault_test fault_agent)
# Tests that start fault_agent wait up to 540 s for it (a litmus on a busy
# machine); ctest's limit lies above that so that their own message shows.
gtest_discover_tests(asymfence_fault_test
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS faults TIMEOUT 600)
# A child forked at any instruction of the shootdown page's set-up: its own
# program, so that no earlier test has set the page up in the process.
add_executable(asymfence_publication_test ${faults_dir}/publication_test.cpp)
target_link_libraries(asymfence_publication_test PRIVATE
  asymfence_test_support asymfence_instruction_stepper GTest::gtest_main)
gtest_discover_tests(asymfence_publication_test
  DISCOVERY_TIMEOUT 60
  PROPERTIES LABELS faults TIMEOUT 300)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  foreach(target asymfence_fault_support fault_agent asymfence_fault_test
                 asymfence_publication_test)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  endforeach()
endif()
