# SPDX-License-Identifier: Apache-2.0 OR MIT
# One step of the packaging tests, run by ctest as
#   cmake -DSETTINGS=<settings.cmake> -DSTEP=<step> [-DCONFIG=<config>] ... -P package_test.cmake
# Steps:
#   install          install the build tree into a fresh scratch prefix
#   installed_files  the prefix holds the library, the public headers (and no
#                    internal ones), the CMake package with its version file, and the .pc
#   probe            the prefix holds bin/asymfence-probe and it runs (skipped,
#                    with a message, while the project builds no probe)
#   consumer         configure, build and run consumers/<CONSUMER> (-DCONSUMER=...);
#                    -DAGAINST=installed|build_tree picks the package it finds
#   pkg_config       compile consumers/consumer.c as C99 with
#                    `pkg-config --cflags --libs asymfence` and run it
cmake_minimum_required(VERSION 3.25)

if(NOT EXISTS "${SETTINGS}")
  message(FATAL_ERROR "pass -DSETTINGS=<the settings.cmake written by tests/package/tests.cmake>")
endif()
include(${SETTINGS})

set(build_config_option "")
if(CONFIG)
  set(build_config_option --config ${CONFIG})
endif()

function(fail)
  string(JOIN "" text ${ARGN})
  message(FATAL_ERROR "${text}")
endfunction()

function(run_checked what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    fail("${what} failed (${rc}): ${ARGN}")
  endif()
endfunction()

# Runs a consumer program; it must succeed and name the strategy it found.
function(run_consumer program)
  execute_process(COMMAND ${EMULATOR} ${program}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${program}:\n${out}${err}")
  if(NOT rc EQUAL 0)
    fail("${program} exited with ${rc}")
  endif()
  if(NOT out MATCHES "strategy: ([a-z_]+)")
    fail("${program} printed no strategy")
  endif()
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE ${PREFIX})
  run_checked("cmake --install"
              ${CMAKE_COMMAND} --install ${ASYMFENCE_BUILD_DIR} --prefix ${PREFIX}
              ${build_config_option})

elseif(STEP STREQUAL "installed_files")
  set(missing "")
  set(expected
      ${INSTALL_INCLUDEDIR}/asymfence/config.h
      ${INSTALL_LIBDIR}/cmake/asymfence/asymfenceConfig.cmake
      ${INSTALL_LIBDIR}/cmake/asymfence/asymfenceConfigVersion.cmake
      ${INSTALL_LIBDIR}/cmake/asymfence/asymfenceTargets.cmake
      ${INSTALL_LIBDIR}/pkgconfig/asymfence.pc)
  file(GLOB public_headers RELATIVE ${ASYMFENCE_SOURCE_DIR}/include
       ${ASYMFENCE_SOURCE_DIR}/include/asymfence/*.h
       ${ASYMFENCE_SOURCE_DIR}/include/asymfence/*.hpp)
  foreach(header IN LISTS public_headers)
    list(APPEND expected ${INSTALL_INCLUDEDIR}/${header})
  endforeach()
  foreach(path IN LISTS expected)
    if(NOT EXISTS ${PREFIX}/${path})
      list(APPEND missing ${path})
    endif()
  endforeach()
  file(GLOB libraries ${PREFIX}/${INSTALL_LIBDIR}/*asymfence*)
  if(NOT libraries)
    list(APPEND missing "${INSTALL_LIBDIR}/<the asymfence library>")
  endif()
  if(missing)
    list(JOIN missing "\n  " missing)
    fail("missing from the installed tree ${PREFIX}:\n  ${missing}")
  endif()

  # Only the public headers: the seam and test hooks under src/ stay private.
  file(GLOB_RECURSE installed_headers RELATIVE ${PREFIX}/${INSTALL_INCLUDEDIR}
       ${PREFIX}/${INSTALL_INCLUDEDIR}/*)
  list(REMOVE_ITEM installed_headers ${public_headers} asymfence/config.h)
  if(installed_headers)
    fail("headers installed that are not public: ${installed_headers}")
  endif()

  file(STRINGS ${PREFIX}/${INSTALL_LIBDIR}/cmake/asymfence/asymfenceConfigVersion.cmake
       version_line REGEX "set\\(PACKAGE_VERSION \"")
  if(NOT version_line MATCHES "\"${ASYMFENCE_VERSION}\"")
    fail("the version file says '${version_line}', the project is ${ASYMFENCE_VERSION}")
  endif()
  message("installed tree ${PREFIX}: library, headers, CMake package ${ASYMFENCE_VERSION}, "
          "version file, pkg-config file")

elseif(STEP STREQUAL "probe")
  set(probe ${PREFIX}/${INSTALL_BINDIR}/asymfence-probe${EXECUTABLE_SUFFIX})
  if(NOT EXISTS ${probe})
    if(PROBE_BUILT)
      fail("the project builds asymfence-probe but does not install it to ${probe}")
    endif()
    message("PACKAGE CHECK SKIPPED: this build has no asymfence-probe yet, so "
            "${INSTALL_BINDIR}/asymfence-probe is not checked")
    return()
  endif()
  execute_process(COMMAND ${EMULATOR} ${probe} --help
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}${err}")
  if(NOT rc EQUAL 0)
    fail("the installed ${probe} --help exited with ${rc}")
  endif()

elseif(STEP STREQUAL "consumer")
  set(source ${CONSUMERS_DIR}/${CONSUMER})
  set(binary ${WORK_DIR}/${CONSUMER}-${AGAINST})
  if(NOT CONSUMER OR NOT IS_DIRECTORY ${source})
    fail("pass -DCONSUMER=<a folder under ${CONSUMERS_DIR}>")
  endif()
  set(options ${CONSUMER_OPTIONS})
  if(AGAINST STREQUAL "installed")
    list(APPEND options -DCMAKE_PREFIX_PATH=${PREFIX}
         -DEXPECTED_ASYMFENCE_DIR=${PREFIX}/${INSTALL_LIBDIR}/cmake/asymfence)
  elseif(AGAINST STREQUAL "build_tree")
    list(APPEND options -Dasymfence_DIR=${ASYMFENCE_BUILD_DIR}
         -DEXPECTED_ASYMFENCE_DIR=${ASYMFENCE_BUILD_DIR})
  elseif(AGAINST STREQUAL "source_tree")
    list(APPEND options -DASYMFENCE_SOURCE_DIR=${ASYMFENCE_SOURCE_DIR}
         -DASYMFENCE_CHECKED_LIGHT=${ASYMFENCE_CHECKED_LIGHT})
  else()
    fail("pass -DAGAINST=installed, build_tree or source_tree")
  endif()
  if(CONSUMER STREQUAL "version")
    list(APPEND options -DACCEPTED_VERSION=${ASYMFENCE_VERSION_MAJOR}.${ASYMFENCE_VERSION_MINOR})
    # The next major, and the previous major (or, below 1.0, the previous minor).
    math(EXPR next_major "${ASYMFENCE_VERSION_MAJOR} + 1")
    set(refused ${next_major}.0)
    if(ASYMFENCE_VERSION_MAJOR GREATER 0)
      math(EXPR previous_major "${ASYMFENCE_VERSION_MAJOR} - 1")
      string(APPEND refused ",${previous_major}.0")
    elseif(ASYMFENCE_VERSION_MINOR GREATER 0)
      math(EXPR previous_minor "${ASYMFENCE_VERSION_MINOR} - 1")
      string(APPEND refused ",0.${previous_minor}")
    endif()
    list(APPEND options -DREFUSED_VERSIONS=${refused})
  endif()

  file(REMOVE_RECURSE ${binary})
  run_checked("configuring consumers/${CONSUMER}"
              ${CMAKE_COMMAND} -S ${source} -B ${binary} ${options})
  if(CONSUMER STREQUAL "version")
    return()
  endif()
  run_checked("building consumers/${CONSUMER}"
              ${CMAKE_COMMAND} --build ${binary} ${build_config_option})
  set(program ${binary}/consumer${EXECUTABLE_SUFFIX})
  if(CONFIG AND NOT EXISTS ${program})
    set(program ${binary}/${CONFIG}/consumer${EXECUTABLE_SUFFIX})
  endif()
  run_consumer(${program})

elseif(STEP STREQUAL "pkg_config")
  if(NOT PKG_CONFIG)
    message("PACKAGE CHECK SKIPPED: pkg-config was not found when the project was configured "
            "(Debian: apt-get install pkgconf)")
    return()
  endif()
  # Only the scratch prefix: a system-wide asymfence must not answer instead.
  set(ENV{PKG_CONFIG_LIBDIR} ${PREFIX}/${INSTALL_LIBDIR}/pkgconfig)
  unset(ENV{PKG_CONFIG_PATH})
  execute_process(COMMAND ${PKG_CONFIG} --modversion asymfence
                  RESULT_VARIABLE rc OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0 OR NOT version STREQUAL ASYMFENCE_VERSION)
    fail("pkg-config --modversion asymfence gave '${version}' (${rc}), expected ${ASYMFENCE_VERSION}")
  endif()
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs asymfence
                  RESULT_VARIABLE rc OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    fail("pkg-config --cflags --libs asymfence failed (${rc})")
  endif()
  message("pkg-config --cflags --libs asymfence: ${flags}")
  separate_arguments(flags UNIX_COMMAND "${flags}")
  separate_arguments(build_flags UNIX_COMMAND "${C_FLAGS}")
  set(binary ${WORK_DIR}/pkg_config)
  file(REMOVE_RECURSE ${binary})
  file(MAKE_DIRECTORY ${binary})
  set(program ${binary}/consumer${EXECUTABLE_SUFFIX})
  run_checked("compiling consumers/consumer.c as C99 with the flags from pkg-config"
              ${C_COMPILER} ${build_flags} -std=c99 -pedantic-errors -Wall -Wextra -Werror
              ${CONSUMERS_DIR}/consumer.c ${flags} -o ${program})
  run_consumer(${program})

else()
  fail("unknown -DSTEP='${STEP}'")
endif()
