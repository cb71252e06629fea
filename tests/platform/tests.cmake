# SPDX-License-Identifier: Apache-2.0 OR MIT
# Platform tests: the rules that depend on the CPU architecture (run natively
# and, in the cross builds, under qemu-user) and Windows (run under Wine).
set(ASYMFENCE_PLATFORM_TESTS ${CMAKE_CURRENT_LIST_DIR})

function(asymfence_platform_test name)
  cmake_parse_arguments(ARG "" "TEST_FILTER" "" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE asymfence_test_support GTest::gtest_main)
  set(filter "")
  if(ARG_TEST_FILTER)
    set(filter TEST_FILTER ${ARG_TEST_FILTER})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120 ${filter}
                       PROPERTIES LABELS platform TIMEOUT 600)
endfunction()

if(NOT WIN32)
  asymfence_platform_test(asymfence_architecture_test
                          ${ASYMFENCE_PLATFORM_TESTS}/architecture_test.cpp)
else()
  set(interrupt_test Windows.HeavyInterruptsACpuRunningASpinningThread)
  asymfence_platform_test(asymfence_windows_test ${ASYMFENCE_PLATFORM_TESTS}/windows_test.cpp
                          TEST_FILTER -${interrupt_test})
  # The interrupt count needs the spinning thread to keep its CPU on a busy
  # host. Wine maps no Windows priority to a real-time one, so the test runs
  # under chrt where that is allowed (as the Linux interrupt tests raise their
  # spinner), else at normal priority; ASYMFENCE_TEST_REALTIME tells it which.
  find_program(ASYMFENCE_CHRT chrt)
  set(realtime "")
  if(ASYMFENCE_CHRT)
    set(realtime sh -c "${ASYMFENCE_CHRT} -f 1 true 2>/dev/null && exec ${ASYMFENCE_CHRT} -f 1 env ASYMFENCE_TEST_REALTIME=1 \"$@\" || exec \"$@\"" sh)
  endif()
  add_test(NAME ${interrupt_test}
           COMMAND ${realtime} ${CMAKE_CROSSCOMPILING_EMULATOR}
                   $<TARGET_FILE:asymfence_windows_test> --gtest_filter=${interrupt_test})
  set_tests_properties(${interrupt_test} PROPERTIES LABELS platform TIMEOUT 300
                       SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")

  # The core area's portable programs, built here because the rest of that
  # area forks, execs and reads /proc (tests/CMakeLists.txt leaves it out).
  set(core ${CMAKE_CURRENT_LIST_DIR}/../core)
  asymfence_platform_test(asymfence_api_test ${core}/api_test.cpp)
  target_compile_definitions(asymfence_api_test PRIVATE ASYMFENCE_TEST_CPLUSPLUS=201703L)
  add_executable(asymfence_c_api_test ${core}/c_api_test.c)
  set_target_properties(asymfence_c_api_test PROPERTIES
    C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF LINKER_LANGUAGE CXX)
  target_compile_options(asymfence_c_api_test PRIVATE -Wall -Wextra -pedantic-errors)
  target_link_libraries(asymfence_c_api_test PRIVATE asymfence)
  add_test(NAME CApi.CompiledAsC99 COMMAND asymfence_c_api_test)
  set_tests_properties(CApi.CompiledAsC99 PROPERTIES LABELS platform)

  # light() in a Windows object: objdump runs here, on the build machine,
  # since the test programs run under Wine.
  if(CMAKE_OBJDUMP AND NOT ASYMFENCE_CHECKED_LIGHT)
    add_library(asymfence_codegen_subject OBJECT ${core}/codegen_subject.cpp)
    target_compile_options(asymfence_codegen_subject PRIVATE -O2 -ffunction-sections)
    target_link_libraries(asymfence_codegen_subject PRIVATE asymfence)
    add_test(NAME Codegen.LightIsOnlyAReturn
             COMMAND ${CMAKE_COMMAND} -DOBJDUMP=${CMAKE_OBJDUMP}
                     -DOBJECT=$<TARGET_OBJECTS:asymfence_codegen_subject>
                     -P ${ASYMFENCE_PLATFORM_TESTS}/light_codegen.cmake)
    set_tests_properties(Codegen.LightIsOnlyAReturn PROPERTIES LABELS platform)
  endif()
endif()
