# SPDX-License-Identifier: Apache-2.0 OR MIT
# The probe's own tests: its JSON against what the library reports, its exit
# codes, and the strategy override. Included from tools/probe/CMakeLists.txt.
add_executable(asymfence_print_library_view ${CMAKE_CURRENT_LIST_DIR}/print_library_view.cpp)
target_link_libraries(asymfence_print_library_view PRIVATE asymfence)

set(probe_check ${CMAKE_CURRENT_LIST_DIR}/probe_check.cmake)
set(probe_emulator "")
if(CMAKE_CROSSCOMPILING_EMULATOR)
  string(JOIN " " probe_emulator ${CMAKE_CROSSCOMPILING_EMULATOR})
endif()

# asymfence_probe_test(<name> EXIT <code> [ARGS <arguments>] [OUTPUT <regex>]
#                      [STRATEGY <name>|library] [ENVIRONMENT <NAME=value>...])
function(asymfence_probe_test name)
  cmake_parse_arguments(ARG "" "EXIT;ARGS;OUTPUT;STRATEGY" "ENVIRONMENT" ${ARGN})
  set(defines -DPROBE=$<TARGET_FILE:asymfence-probe> "-DEMULATOR=${probe_emulator}"
              "-DARGS=${ARG_ARGS}" -DEXPECT_EXIT=${ARG_EXIT})
  if(DEFINED ARG_OUTPUT)
    list(APPEND defines "-DEXPECT_OUTPUT=${ARG_OUTPUT}")
  endif()
  if(DEFINED ARG_STRATEGY)
    list(APPEND defines -DEXPECT_STRATEGY=${ARG_STRATEGY}
                        -DLIBRARY_VIEW=$<TARGET_FILE:asymfence_print_library_view>)
  endif()
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} ${defines} -P ${probe_check})
  # Selection must be the library's own unless a test forces it.
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "ASYMFENCE_STRATEGY=;${ARG_ENVIRONMENT}" LABELS probe TIMEOUT 120)
endfunction()

asymfence_probe_test(probe.json EXIT 0 ARGS "--json --quick" STRATEGY library)
asymfence_probe_test(probe.help EXIT 0 ARGS "--help" OUTPUT "Usage: asymfence-probe.*Exit codes")
asymfence_probe_test(probe.bad_option EXIT 2 ARGS "--no-such-option"
                     OUTPUT "unknown option '--no-such-option'")
asymfence_probe_test(probe.bad_iterations EXIT 2 ARGS "--iterations 0"
                     OUTPUT "--iterations wants a whole number")
asymfence_probe_test(probe.unknown_strategy EXIT 1 ARGS "--quick"
                     OUTPUT "bogus.*valid names: auto, membarrier_private_expedited, mprotect"
                     ENVIRONMENT ASYMFENCE_STRATEGY=bogus)
asymfence_probe_test(probe.unknown_strategy_json EXIT 1 ARGS "--json --quick"
                     OUTPUT "\"result\": \"no_sound_strategy\""
                     ENVIRONMENT ASYMFENCE_STRATEGY=bogus)
# The mprotect trick is sound only on x86 Linux; elsewhere forcing it is refused.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND
   CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86|x86)$")
  asymfence_probe_test(probe.forced_mprotect EXIT 0 ARGS "--json --quick" STRATEGY mprotect
                       ENVIRONMENT ASYMFENCE_STRATEGY=mprotect)
else()
  asymfence_probe_test(probe.forced_mprotect EXIT 1 ARGS "--json --quick"
                       OUTPUT "ASYMFENCE_STRATEGY=mprotect is refused"
                       ENVIRONMENT ASYMFENCE_STRATEGY=mprotect)
endif()
