# SPDX-License-Identifier: Apache-2.0 OR MIT
# One step of the packaging tests, run by ctest as
#   cmake -DSETTINGS=<settings.cmake> -DSTEP=<step> [-DCONFIG=<config>] ... -P package_test.cmake
# Steps:
#   install          install the build tree into a fresh scratch prefix
#   installed_files  the prefix holds the library, the public headers (and no
#                    internal ones), the CMake package with its version file, and the .pc
#   exports          a shared library exports the public API and no test hook
#                    (checked against the tests' variant, which exports them), and
#                    its SONAME carries major.minor (skipped for a static library)
#   uninstall        the `uninstall` target's script removes everything that
#                    `cmake --install` put into another scratch prefix
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

# Installs the build tree into `prefix`. `cmake --install` writes the build
# tree's install_manifest.txt, which the `uninstall` target reads: the user's
# own manifest is put back, and this install's is moved to `manifest`.
function(install_into prefix manifest)
  set(build_manifest ${ASYMFENCE_BUILD_DIR}/install_manifest.txt)
  set(saved ${manifest}.user)
  file(REMOVE ${saved})
  if(EXISTS ${build_manifest})
    file(RENAME ${build_manifest} ${saved})
  endif()
  file(REMOVE_RECURSE ${prefix})
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${ASYMFENCE_BUILD_DIR} --prefix ${prefix}
                          ${build_config_option}
                  RESULT_VARIABLE rc)
  if(EXISTS ${build_manifest})
    file(RENAME ${build_manifest} ${manifest})
  endif()
  if(EXISTS ${saved})
    file(RENAME ${saved} ${build_manifest})
  endif()
  if(NOT rc EQUAL 0)
    fail("cmake --install ${ASYMFENCE_BUILD_DIR} --prefix ${prefix} failed (${rc})")
  endif()
endfunction()

# Runs a consumer program; it must succeed, print the version from the version
# macros, and name the strategy it found.
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
  if(NOT out MATCHES "version: ${ASYMFENCE_VERSION} ${ASYMFENCE_VERSION}\n")
    fail("${program} did not print 'version: ${ASYMFENCE_VERSION} ${ASYMFENCE_VERSION}' "
         "(the version macros, then ASYMFENCE_VERSION_STRING)")
  endif()
endfunction()

if(STEP STREQUAL "install")
  install_into(${PREFIX} ${WORK_DIR}/install_manifest.txt)

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

elseif(STEP STREQUAL "exports")
  if(NOT SHARED)
    message("PACKAGE CHECK SKIPPED: a static library (BUILD_SHARED_LIBS=OFF) has no export "
            "table; the shared build (preset shared) checks it")
    return()
  endif()
  if(NOT NM OR NOT OBJDUMP)
    fail("nm and objdump are needed to read the shared library's exports (Debian: binutils)")
  endif()
  file(GLOB library ${PREFIX}/${INSTALL_LIBDIR}/libasymfence.so.*.*.*)
  if(NOT library)
    fail("no libasymfence.so.<version> in ${PREFIX}/${INSTALL_LIBDIR}")
  endif()
  function(read_exports library out)
    execute_process(COMMAND ${NM} -D -C --defined-only ${library}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE exports ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      fail("${NM} -D ${library} failed (${rc}): ${err}")
    endif()
    set(${out} "${exports}" PARENT_SCOPE)
  endfunction()
  read_exports(${library} exports)
  # The public API must be seen, or the check below would pass on an empty table.
  foreach(public asymfence_heavy asymfence::try_heavy asymfence::detail::heavy_slow)
    if(NOT exports MATCHES "${public}")
      fail("${library} does not export ${public}:\n${exports}")
    endif()
  endforeach()
  # What src/test_api.hpp marks: the test hooks, the seam, rules tested alone.
  string(CONCAT test_only "[^\n]*(_for_testing|detail::os|real_os|kernel_release_at_least|"
                          "private_expedited_trusted|membarrier_query)[^\n]*")
  # The control: the tests' variant exports them, and the pattern must see that.
  file(GLOB testable ${ASYMFENCE_BUILD_DIR}/libasymfence_testable.so.*.*.*)
  if(NOT testable)
    fail("no libasymfence_testable.so.<version> in ${ASYMFENCE_BUILD_DIR} to check the check with")
  endif()
  read_exports(${testable} testable_exports)
  string(REGEX MATCHALL "${test_only}" hooks "${testable_exports}")
  list(LENGTH hooks seen)
  if(seen LESS 7)
    list(JOIN hooks "\n  " hooks)
    fail("the pattern for test hooks found only ${seen} of the 7 that ${testable} exports:\n  "
         "${hooks}")
  endif()
  string(REGEX MATCHALL "${test_only}" hooks "${exports}")
  if(hooks)
    list(JOIN hooks "\n  " hooks)
    fail("${library} exports symbols that only the tests may use:\n  ${hooks}")
  endif()
  set(soname libasymfence.so.${ASYMFENCE_VERSION_MAJOR}.${ASYMFENCE_VERSION_MINOR})
  execute_process(COMMAND ${OBJDUMP} -p ${library} OUTPUT_VARIABLE headers)
  if(NOT headers MATCHES "SONAME +${soname}\n")
    fail("${library} does not have the SONAME ${soname}")
  endif()
  message("${library}: exports the public API and none of the ${seen} test hooks that "
          "${testable} exports; SONAME ${soname}")

elseif(STEP STREQUAL "uninstall")
  set(prefix ${WORK_DIR}/uninstall-prefix)
  set(manifest ${WORK_DIR}/uninstall_manifest.txt)
  install_into(${prefix} ${manifest})
  file(GLOB_RECURSE installed LIST_DIRECTORIES false ${prefix}/*)
  if(NOT installed)
    fail("cmake --install put nothing into ${prefix}")
  endif()
  run_checked("the uninstall script"
              ${CMAKE_COMMAND} -DMANIFEST=${manifest}
              -P ${ASYMFENCE_SOURCE_DIR}/cmake/asymfence_uninstall.cmake)
  # Only empty directories that other packages share (bin, lib, ...) may stay.
  file(GLOB_RECURSE paths RELATIVE ${prefix} LIST_DIRECTORIES true ${prefix}/*)
  set(left "")
  foreach(path IN LISTS paths)
    if(NOT IS_DIRECTORY ${prefix}/${path} OR path MATCHES "asymfence")
      list(APPEND left ${path})
    endif()
  endforeach()
  if(left)
    list(JOIN left "\n  " left)
    fail("left behind in ${prefix} after uninstalling:\n  ${left}")
  endif()
  list(LENGTH installed count)
  message("the uninstall script removed all ${count} installed files")

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
    fail("pkg-config was not found when the project was configured")
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
  if(SHARED)
    # As a user would after installing into a prefix outside the loader's path.
    set(ENV{LD_LIBRARY_PATH} "${PREFIX}/${INSTALL_LIBDIR}:$ENV{LD_LIBRARY_PATH}")
  endif()
  run_checked("compiling consumers/consumer.c as C99 with the flags from pkg-config"
              ${C_COMPILER} ${build_flags} -std=c99 -pedantic-errors -Wall -Wextra -Werror
              ${CONSUMERS_DIR}/consumer.c ${flags} -o ${program})
  run_consumer(${program})

else()
  fail("unknown -DSTEP='${STEP}'")
endif()
