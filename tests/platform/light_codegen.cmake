# SPDX-License-Identifier: Apache-2.0 OR MIT
# Checks on the build machine that light() compiles to a bare return in an
# object built for a target whose test programs cannot run objdump themselves
# (Windows under Wine). The control, a seq_cst fence, must be flagged, or the
# check could not tell a fence from nothing.
#
#   cmake -DOBJDUMP=<target objdump> -DOBJECT=<object file> -P light_codegen.cmake
#
# The object holds asymfence_codegen_light() and asymfence_codegen_fence()
# (tests/core/codegen_subject.cpp). x86 mnemonics, as objdump spells them.
foreach(variable OBJDUMP OBJECT)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "light_codegen.cmake needs -D${variable}=...")
  endif()
endforeach()

execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn ${OBJECT}
                OUTPUT_VARIABLE disassembly ERROR_VARIABLE errors RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} failed (${status}): ${errors}")
endif()
string(REPLACE "\n" ";" lines "${disassembly}")

# The instructions of `function` up to its first return; what follows the
# return is the section's alignment padding (nop).
function(instructions_of function out)
  set(body "")
  set(inside OFF)
  foreach(line IN LISTS lines)
    if(NOT inside)
      if(line MATCHES "<${function}>:$")
        set(inside ON)
      endif()
      continue()
    endif()
    if(NOT line MATCHES "^ *[0-9a-f]+:[ \t]+(.*[^ \t])")
      break()
    endif()
    string(REGEX REPLACE "[ \t]+" " " instruction "${CMAKE_MATCH_1}")
    list(APPEND body "${instruction}")
    if(instruction MATCHES "^ret[lq]?$")
      break()
    endif()
  endforeach()
  set(${out} "${body}" PARENT_SCOPE)
endfunction()

instructions_of(asymfence_codegen_light light)
instructions_of(asymfence_codegen_fence control)
message(STATUS "light(): ${light}")
message(STATUS "control (seq_cst fence): ${control}")

if(NOT control MATCHES "(^|;)(mfence|lock )")
  message(FATAL_ERROR "the control shows no fence (${control}): the check cannot tell")
endif()
if(NOT light MATCHES "^ret[lq]?$")
  message(FATAL_ERROR "light() is not a bare return: ${light}")
endif()
