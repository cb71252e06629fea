# SPDX-License-Identifier: Apache-2.0 OR MIT
# Runs asymfence-probe once and checks its exit code, its output and, for
# --json, the one JSON object it prints. Run with cmake -P and:
#   -DPROBE=<path>             the probe (with -DEMULATOR=<command> when cross-built)
#   -DARGS=<arguments>         space-separated, e.g. "--json --quick"
#   -DEXPECT_EXIT=<code>
#   -DEXPECT_OUTPUT=<regex>    optional: stdout and stderr together must match
#   -DEXPECT_STRATEGY=<name>   optional: check the JSON; "library" means the
#                              strategy -DLIBRARY_VIEW=<program> reports; that
#                              program also tells whether light() is only a
#                              compiler barrier in this build, and whether it
#                              is a ThreadSanitizer build
cmake_minimum_required(VERSION 3.25)

function(fail)
  string(JOIN "" text ${ARGN})
  message(FATAL_ERROR "${text}\n--- stdout ---\n${out}\n--- stderr ---\n${err}")
endfunction()

# Sets `var` to the member at the given path, which must have JSON type `type`.
function(json_member var type)
  string(JSON found ERROR_VARIABLE error TYPE "${json}" ${ARGN})
  if(error OR NOT found STREQUAL type)
    string(JOIN "." path ${ARGN})
    fail("JSON member '${path}' should be ${type}, found ${found} ${error}")
  endif()
  string(JSON value GET "${json}" ${ARGN})
  set(${var} "${value}" PARENT_SCOPE)
endfunction()

# string(JSON) accepts text after the first value, so check by hand that the
# output is one object: braces outside strings close only at the very end.
function(require_one_object)
  string(STRIP "${out}" text)
  string(REGEX REPLACE "\"([^\"\\\\]|\\\\.)*\"" "\"\"" text "${text}")
  string(REGEX REPLACE "[^][{}]" "" brackets "${text}")
  string(LENGTH "${brackets}" length)
  if(NOT text MATCHES "^{.*}$" OR length EQUAL 0)
    fail("stdout is not one JSON object")
  endif()
  set(depth 0)
  math(EXPR last "${length} - 1")
  foreach(i RANGE ${last})
    string(SUBSTRING "${brackets}" ${i} 1 c)
    if(c STREQUAL "{" OR c STREQUAL "[")
      math(EXPR depth "${depth} + 1")
    else()
      math(EXPR depth "${depth} - 1")
    endif()
    if(depth EQUAL 0 AND i LESS last)
      fail("stdout holds more than one JSON value")
    endif()
  endforeach()
  string(JSON type ERROR_VARIABLE error TYPE "${out}")
  if(error OR NOT type STREQUAL "OBJECT")
    fail("stdout is not a valid JSON object: ${error}")
  endif()
endfunction()

separate_arguments(args NATIVE_COMMAND "${ARGS}")
separate_arguments(emulator NATIVE_COMMAND "${EMULATOR}")

# What the library itself reports, to compare with the probe's JSON.
set(tsan OFF)
if(DEFINED EXPECT_STRATEGY)
  execute_process(COMMAND ${emulator} ${LIBRARY_VIEW} OUTPUT_VARIABLE view RESULT_VARIABLE code)
  if(NOT code EQUAL 0 OR NOT view MATCHES "^([a-z_]+) ([01]) ([01])")
    fail("${LIBRARY_VIEW} failed (${code}): ${view}")
  endif()
  if(EXPECT_STRATEGY STREQUAL "library")
    set(EXPECT_STRATEGY "${CMAKE_MATCH_1}")
  endif()
  set(expected_light_only ON)
  if(CMAKE_MATCH_2 STREQUAL "0")
    set(expected_light_only OFF)
  endif()
  if(CMAKE_MATCH_3 STREQUAL "1")
    set(tsan ON)
  endif()
endif()

execute_process(COMMAND ${emulator} ${PROBE} ${args}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE code)
# Under ThreadSanitizer the long instrumented path from a store to the next
# load lets the store drain first, so the control shows no violation and the
# probe rightly calls its self-check inconclusive (exit 4).
if(tsan AND EXPECT_EXIT EQUAL 0 AND code EQUAL 4)
  message(STATUS "ThreadSanitizer build: the self-check is inconclusive there, as expected")
  set(EXPECT_EXIT 4)
endif()
# Under an emulator the self-check proves nothing about the library: qemu-user
# runs the threads with the host's memory order, and under Wine the probe
# fails it on purpose (exit 3: FlushProcessWriteBuffers is a stub there).
set(emulated OFF)
if(NOT "${EMULATOR}" STREQUAL "")
  set(emulated ON)
endif()
if(emulated AND EXPECT_EXIT EQUAL 0 AND code MATCHES "^[34]$")
  message(STATUS "under an emulator the self-check is not judged (exit ${code})")
  set(EXPECT_EXIT ${code})
endif()
if(NOT code STREQUAL EXPECT_EXIT)
  fail("asymfence-probe ${ARGS} exited with '${code}', expected ${EXPECT_EXIT}")
endif()
if(DEFINED EXPECT_OUTPUT AND NOT "${out}${err}" MATCHES "${EXPECT_OUTPUT}")
  fail("the output does not match '${EXPECT_OUTPUT}'")
endif()
if(NOT DEFINED EXPECT_STRATEGY)
  return()
endif()

require_one_object()
set(json "${out}")

json_member(strategy STRING strategy)
if(strategy STREQUAL "none" OR NOT strategy STREQUAL EXPECT_STRATEGY)
  fail("JSON strategy is '${strategy}', expected '${EXPECT_STRATEGY}' (and not none)")
endif()
json_member(light_only BOOLEAN light_compiler_only)
if(NOT light_only STREQUAL expected_light_only)
  fail("light_compiler_only is ${light_only}, expected ${expected_light_only}")
endif()
json_member(iterations NUMBER litmus iterations)
json_member(forbidden NUMBER litmus forbidden)
json_member(control_forbidden NUMBER litmus control_forbidden)
if(iterations LESS_EQUAL 0)
  fail("the self-check ran no iteration")
endif()
if(NOT forbidden EQUAL 0 AND NOT emulated)
  fail("the self-check saw ${forbidden} forbidden outcomes of light() against heavy()")
endif()
if(control_forbidden LESS_EQUAL 0 AND NOT tsan AND NOT emulated)
  fail("the control saw no violation: the self-check proves nothing")
endif()
# The rest of the report is present and well-typed.
json_member(kernel STRING kernel)
json_member(arch STRING arch)
json_member(query OBJECT membarrier_query)
json_member(tlb_verdict STRING tlb_flush verdict)
json_member(tlb_invlpgb BOOLEAN tlb_flush invlpgb)
json_member(tlb_every_cpu BOOLEAN tlb_flush interrupts_every_cpu)
json_member(candidates ARRAY candidates)
json_member(light_ns NUMBER costs_ns light)
json_member(heavy_ns NUMBER costs_ns heavy alone)
json_member(calls NUMBER sharing heavy_calls)
json_member(barriers NUMBER sharing barriers_issued)
json_member(result STRING result)
if(NOT result STREQUAL "ok" AND NOT (tsan AND result STREQUAL "self_check_inconclusive") AND
   NOT (emulated AND result MATCHES "^self_check_(failed|inconclusive)$"))
  fail("result is '${result}'")
endif()
message(STATUS "strategy ${strategy}: ${iterations} iterations, ${forbidden} forbidden; "
               "control ${control_forbidden} forbidden; ${calls} heavy calls, ${barriers} barriers")
