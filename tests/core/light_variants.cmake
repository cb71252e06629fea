# SPDX-License-Identifier: Apache-2.0 OR MIT
# Translation units built for different light() bodies must not make one
# program: a compiler-barrier light() beside a library that may fall back to
# fences would be unsound, and two bodies of one inline function break the
# one-definition rule. Builds tests/core/variant_light.cpp and variant_main.cpp
# for the default and the checked-light configuration and links them:
#  - each configuration with its own library links (the control);
#  - either light() translation unit with the other configuration's main and
#    library fails to link, naming the variant it needs;
#  - the two translation units define light() under different names.
#
#   cmake -DCXX=<compiler> -DSOURCE_DIR=<tests/core> -DWORK_DIR=<dir>
#         -DINCLUDE=<include/> -DDEFAULT_CONFIG=<dir> -DCHECKED_CONFIG=<dir>
#         -DDEFAULT_LIBRARY=<file> -DCHECKED_LIBRARY=<file> [-DNM=<nm>]
#         [-DLINK_FLAGS=<flags the libraries need: a sanitizer's runtime>]
#         -P light_variants.cmake
#
# The translation units are compiled without sanitizer flags (under
# ThreadSanitizer light() would be a fence in both, which links anywhere).
cmake_minimum_required(VERSION 3.25)

file(MAKE_DIRECTORY ${WORK_DIR})
separate_arguments(link_flags UNIX_COMMAND "${LINK_FLAGS}")
set(failures "")

function(run out_var result_var)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE code
                  WORKING_DIRECTORY ${WORK_DIR})
  set(${out_var} "${out}${err}" PARENT_SCOPE)
  set(${result_var} ${code} PARENT_SCOPE)
endfunction()

# Compiles <source> with the configuration's config.h into <object>.
function(compile source config object)
  run(out code ${CXX} -std=c++17 -O2 -c -I${INCLUDE} -I${config} ${SOURCE_DIR}/${source}
      -o ${WORK_DIR}/${object})
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "compiling ${source} against ${config} failed:\n${out}")
  endif()
endfunction()

compile(variant_light.cpp ${DEFAULT_CONFIG} light_default.o)
compile(variant_light.cpp ${CHECKED_CONFIG} light_checked.o)
compile(variant_main.cpp ${DEFAULT_CONFIG} main_default.o)
compile(variant_main.cpp ${CHECKED_CONFIG} main_checked.o)

# Links the objects with the library; appends to `failures` unless the outcome
# is the expected one (`links`, or `fails` with output matching `needs`).
function(link name expected needs library)
  run(out code ${CXX} ${link_flags} ${ARGN} ${library} -pthread -o ${WORK_DIR}/${name})
  if(expected STREQUAL "links")
    if(code EQUAL 0)
      message(STATUS "${name}: links, as it must")
    else()
      set(failures "${failures}\n${name} should link, but:\n${out}" PARENT_SCOPE)
    endif()
  elseif(code EQUAL 0)
    set(failures "${failures}\n${name} linked, but mixes two builds of light()" PARENT_SCOPE)
  elseif(NOT out MATCHES "${needs}")
    set(failures "${failures}\n${name} failed to link, but not for '${needs}':\n${out}"
        PARENT_SCOPE)
  else()
    string(REGEX MATCH "[^\n]*${needs}[^\n]*" line "${out}")
    message(STATUS "${name}: fails to link, as it must: ${line}")
  endif()
endfunction()

link(default_build links "" ${DEFAULT_LIBRARY} main_default.o light_default.o)
link(checked_build links "" ${CHECKED_LIBRARY} main_checked.o light_checked.o)
link(default_light_in_checked_program fails "light_compiler_v1" ${CHECKED_LIBRARY}
     main_checked.o light_default.o)
link(checked_light_in_default_program fails "light_checked_v1" ${DEFAULT_LIBRARY}
     main_default.o light_checked.o)

# Not one inline function with two bodies: each object's light() (emitted out
# of line at -O0) has its build's name.
if(NM)
  foreach(config default checked)
    string(TOUPPER ${config} upper)
    run(out code ${CXX} -std=c++17 -O0 -c -I${INCLUDE} -I${${upper}_CONFIG}
        ${SOURCE_DIR}/variant_light.cpp -o ${WORK_DIR}/light_${config}_O0.o)
    run(symbols code ${NM} -C ${WORK_DIR}/light_${config}_O0.o)
    string(REGEX MATCH "asymfence::light_[a-z]+_v1::light\\(\\)" name "${symbols}")
    message(STATUS "${config} build defines ${name}")
    set(light_${config} "${name}")
  endforeach()
  if(light_default STREQUAL "" OR light_default STREQUAL light_checked)
    set(failures "${failures}\nlight() has the same name in both builds: '${light_default}'")
  endif()
endif()

if(failures)
  message(FATAL_ERROR "${failures}")
endif()
