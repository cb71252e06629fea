# SPDX-License-Identifier: Apache-2.0 OR MIT
# Platform tests: the rules that depend on the CPU architecture (run natively
# and, in the cross builds, under qemu-user) and Windows (run under Wine).
set(ASYMFENCE_PLATFORM_TESTS ${CMAKE_CURRENT_LIST_DIR})

function(asymfence_platform_test name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE asymfence_test_support GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120 PROPERTIES LABELS platform TIMEOUT 300)
endfunction()

if(NOT WIN32)
  asymfence_platform_test(asymfence_architecture_test
                          ${ASYMFENCE_PLATFORM_TESTS}/architecture_test.cpp)
else()
  asymfence_platform_test(asymfence_windows_test ${ASYMFENCE_PLATFORM_TESTS}/windows_test.cpp)

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
